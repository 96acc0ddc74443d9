"""Webhook figures for ./x bench: how long from a change's commit to its delivery, and how
many events per second reach a receiver that answers at once.

python3 bench/webhooks.py PORTAL_URL ADMIN_PASSWORD prints
"p50_ms p99_ms events_per_second events_sent errors". The receiver is a threaded HTTP server
on 127.0.0.1 (the portal runs with OTE_WEBHOOK_ALLOWED_NETWORKS=127.0.0.1/32). The changes are
audits of one user's status (no password hashing), so the figures are the outbox's.
"""

import json
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTAL, ADMIN_PASSWORD = sys.argv[1], sys.argv[2]
LATENCY_SAMPLES = 200
BURST = 2000

arrivals = {}  # webhook-id -> time of arrival
arrived = threading.Condition()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["content-length"]))
        now = time.perf_counter()
        with arrived:
            arrivals.setdefault(self.headers["webhook-id"], now)
            arrived.notify_all()
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def call(method, path, body=None, token=None):
    request = urllib.request.Request(PORTAL + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", token)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    token = call("POST", "/v1/authorization", {"user": "admin", "password": ADMIN_PASSWORD})["token"]
    call("POST", "/v1/admin/webhooks", {"url": url, "events": ["user.audit"]}, token)
    target = call("POST", "/v1/user", {"user": "hooktarget", "password": ADMIN_PASSWORD,
                                       "phone": "+8613999999999", "realName": "Hook", "isAdmin": False})
    user = target["data"]["id"]

    def change(status):
        call("PUT", f"/v1/admin/user/{user}", {"status": status}, token)

    def wait_for(count, timeout=60):
        deadline = time.perf_counter() + timeout
        with arrived:
            while len(arrivals) < count and time.perf_counter() < deadline:
                arrived.wait(deadline - time.perf_counter())
        return len(arrivals)

    # Latency when idle: one change at a time, from its acknowledgement (the commit is
    # before it) to the receiver.
    delays = []
    errors = 0
    for i in range(LATENCY_SAMPLES):
        before = len(arrivals)
        change(1 if i % 2 == 0 else 0)
        committed = time.perf_counter()
        if wait_for(before + 1, timeout=5) <= before:
            errors += 1
            continue
        with arrived:
            newest = max(arrivals.values())
        delays.append(max(0.0, newest - committed) * 1000)
        time.sleep(0.01)
    delays.sort()
    p50 = delays[len(delays) // 2]
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]

    # Throughput: a burst of changes from 8 clients; events per second until the last
    # one has arrived.
    before = len(arrivals)
    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: change(1 if i % 2 == 0 else 0), range(BURST)))
    got = wait_for(before + BURST)
    elapsed = max(arrivals.values()) - start
    errors += before + BURST - got
    print(f"{p50:.1f} {p99:.1f} {BURST / elapsed:.0f} {BURST} {errors}")
    server.shutdown()


main()
