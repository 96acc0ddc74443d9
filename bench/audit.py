"""Audit search figures for ./x bench: first filtered pages of a log of a million entries,
and a CSV export of 100,000 of them.

python3 bench/audit.py PORTAL_URL ADMIN_TOKEN SQLITE_FILE PORTAL_PID prints one line:

  action_p50 action_p99 prefix_p50 prefix_p99 actor_p50 actor_p99 target_p50 target_p99
  day_p50 day_p99 combined_p50 combined_p99 csv_seconds csv_rows csv_rss_growth_mb

(milliseconds, but for the last three). Unless the log already holds a million entries, it
first writes them straight into SQLITE_FILE (the portal's database, while the portal runs)
in one transaction: a year of entries, newest last, spread over 13 actions, one system
administrator, 200 business admins, 200,000 users and 200 businesses. Each figure is 200
requests of a first page (`pageSize=20`, the page's size in the UI) over one keep-alive
connection, each with other values: `action=user.audit`, `action=business.*`, `actor=` a
business admin, `targetType=user&targetId=`, a day (`from`, `to`), and a business admin's
`user.*` actions in a 30-day range. Then `format=csv` of the newest 100,000 entries (a
`from` that takes them in): its time, its rows, and how much the portal's resident memory
(VmRSS of PORTAL_PID) grew while it streamed.
"""

import http.client
import random
import sqlite3
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timezone

PORTAL, TOKEN, DATABASE, PID = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ENTRIES = 1_000_000
REQUESTS = 200
CSV_ROWS = 100_000
USERS, ADMINS, BUSINESSES = 200_000, 200, 200
# action, weight, target type, who does it
ACTIONS = [
    ("user.register", 15, "user", "self"), ("user.audit", 15, "user", "root"),
    ("user.create", 10, "user", "admin"), ("user.delete", 4, "user", "admin"),
    ("business.create", 3, "business", "self"), ("business.audit", 3, "business", "root"),
    ("business.delete", 1, "business", "root"), ("token.create", 12, "token", "self"),
    ("token.revoke", 8, "token", "self"), ("user.totp_enable", 9, "user", "self"),
    ("user.totp_disable", 4, "user", "self"), ("user.totp_reset", 2, "user", "admin"),
    ("session.revoke", 14, "user", "self"),
]


def rfc3339(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fill(db, now):
    """A year of entries up to `now`, written the way the portal writes them."""
    rng = random.Random(13)
    start = now - 365 * 86_400
    times = sorted(rng.randrange(start, now) for _ in range(ENTRIES))
    names = [a[0] for a in ACTIONS]
    weights = [a[1] for a in ACTIONS]
    kinds = {a[0]: (a[2], a[3]) for a in ACTIONS}

    def rows():
        for when in times:
            action = rng.choices(names, weights)[0]
            target_type, who = kinds[action]
            if who == "root":
                actor_id, actor = 1, "admin"
                business = rng.randrange(1, BUSINESSES + 1) if rng.random() < 0.5 else None
            elif who == "admin":
                n = rng.randrange(ADMINS)
                actor_id, actor, business = 2 + n, f"badmin{n}", 1 + n % BUSINESSES
            else:
                n = rng.randrange(USERS)
                actor_id, actor = 1000 + n, f"user{n}"
                business = 1 + n % BUSINESSES if n % 3 == 0 else None
            target = rng.randrange(1, USERS) if target_type == "user" else rng.randrange(1, 5_000)
            if action.endswith(".audit"):
                detail = f"user{target}: status 0 -> {rng.choice((1, 2))}"
            else:
                detail = f"user{target}: {action.split('.')[1].replace('_', ' ')}"
            yield actor_id, actor, action, target_type, target, detail, business, when

    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO audit_log (actor_id, actor, action, target_type, target_id, detail, business_id, "
        "create_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows(),
    )
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def percentiles(samples):
    samples = sorted(samples)
    return samples[len(samples) // 2], samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def timed_pages(connection, queries):
    """Milliseconds of each first page, read whole, over one connection."""
    took = []
    for query in queries:
        path = "/v1/admin/audit?pageSize=20&" + urllib.parse.urlencode(query)
        begin = time.perf_counter()
        connection.request("GET", path, headers={"Authorization": TOKEN})
        response = connection.getresponse()
        body = response.read()
        took.append((time.perf_counter() - begin) * 1000)
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status} {body[:200]!r}")
    return percentiles(took)


def rss_kb():
    with open(f"/proc/{PID}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    db = sqlite3.connect(DATABASE, isolation_level=None, timeout=30)
    now = int(time.time())
    if db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] < ENTRIES:
        began = time.perf_counter()
        fill(db, now)
        print(f"audit: wrote {ENTRIES} entries in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    newest, oldest = db.execute("SELECT MAX(create_time), MIN(create_time) FROM audit_log").fetchone()
    csv_from = db.execute(
        "SELECT create_time FROM audit_log ORDER BY create_time DESC, id DESC LIMIT 1 OFFSET ?", (CSV_ROWS - 1,)
    ).fetchone()[0]
    csv_expected = db.execute("SELECT COUNT(*) FROM audit_log WHERE create_time >= ?", (csv_from,)).fetchone()[0]
    db.close()

    rng = random.Random(7)
    url = urllib.parse.urlsplit(PORTAL)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)

    def days(span):
        start = rng.randrange(oldest, newest - span * 86_400)
        return {"from": rfc3339(start), "to": rfc3339(start + span * 86_400)}

    kinds = [
        lambda: {"action": "user.audit"},
        lambda: {"action": "business.*"},
        lambda: {"actor": f"badmin{rng.randrange(ADMINS)}"},
        lambda: {"targetType": "user", "targetId": rng.randrange(1, USERS)},
        lambda: days(1),
        lambda: {"actor": f"badmin{rng.randrange(ADMINS)}", "action": "user.*", **days(30)},
    ]
    timed_pages(connection, [kinds[0]() for _ in range(20)])  # warm-up
    figures = []
    for make in kinds:
        figures.extend(timed_pages(connection, [make() for _ in range(REQUESTS)]))

    # The CSV: memory sampled every 10 ms while it streams.
    before = rss_kb()
    peak = [before]
    streaming = threading.Event()
    streaming.set()

    def sample():
        while streaming.is_set():
            peak[0] = max(peak[0], rss_kb())
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    began = time.perf_counter()
    connection.request("GET", "/v1/admin/audit?" + urllib.parse.urlencode({"format": "csv", "from": rfc3339(csv_from)}),
                       headers={"Authorization": TOKEN})
    response = connection.getresponse()
    # The generated details hold no line breaks: each one ends a row.
    lines = 0
    while chunk := response.read(1 << 16):
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - began
    streaming.clear()
    sampler.join()
    rows = lines - 1
    if response.status != 200 or rows != csv_expected:
        raise SystemExit(f"CSV: status {response.status}, {rows} rows of {csv_expected}")
    growth_mb = (peak[0] - before) / 1024
    print(" ".join(f"{f:.2f}" for f in figures) + f" {seconds:.2f} {rows} {growth_mb:.1f}")


main()
