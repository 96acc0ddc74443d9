"""The two "hold under attack" figures of the benchmark (bench/run.sh), Python's standard
library only. Every connection goes to the portal on loopback; a client socket bound to
another 127.0.0.0/8 address is another client to the portal, which limits password work
per address.

  attack.py logins URL USER PASSWORD
      20 real logins of USER from 127.0.0.1, one every 0.2 s. Prints
      "p50_ms p99_ms max_ms answered_200 logins".
  attack.py flood URL USER PASSWORD
      The same real logins while 64 clients at a time send logins for random names from
      127.0.0.2, each abandoned after 0.3 s (3,000 of them at least, and until the last
      real login is answered). Prints the same, then "sent seconds answered_429
      answered_401 answered_503 abandoned other" of the flood.
  attack.py guesses URL USER N
      N wrong-password logins for USER at once, each from its own address
      (127.0.1.1, 127.0.1.2, ...). Prints "checked(401) refused(429) other".
"""

import http.client
import json
import math
import os
import sys
import threading
import time
from urllib.parse import urlsplit

FLOOD = 3000            # abandoned logins, at least; the flood lasts as long as the real logins
FLOOD_IN_FLIGHT = 64
FLOOD_SOURCE = "127.0.0.2"
ABANDON_AFTER = 0.3     # seconds: the flood's clients hang up then
ATTACKER_NICENESS = 19
REAL_LOGINS = 20
REAL_SPACING = 0.2      # seconds between the real logins
REAL_START = 0.5        # seconds into the flood when the first real login is sent


def post_login(address, user, password, source=None, timeout=10.0, conn=None):
    """POST /v1/authorization on a connection of its own (closed after): the status."""
    if conn is None:
        conn = http.client.HTTPConnection(*address, timeout=timeout,
                                          source_address=(source, 0) if source else None)
    try:
        body = json.dumps({"user": user, "password": password})
        conn.request("POST", "/v1/authorization", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def percentile(sorted_values, p):
    """Nearest rank: the smallest value with p % of the values at or below it."""
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


def real_logins(address, user, password):
    """The real user's logins: their times in ms, sorted, and how many answered 200."""
    times, ok = [], 0
    for _ in range(REAL_LOGINS):
        started = time.perf_counter()
        try:
            ok += post_login(address, user, password) == 200
        except (OSError, http.client.HTTPException):
            pass
        times.append((time.perf_counter() - started) * 1000)
        time.sleep(REAL_SPACING)
    times.sort()
    return times, ok


def summary(times, ok):
    return (f"{percentile(times, 50):.0f} {percentile(times, 99):.0f} {times[-1]:.0f} "
            f"{ok} {len(times)}")


def flood(address, user, password):
    counts = {"429": 0, "401": 0, "503": 0, "abandoned": 0, "other": 0}
    lock = threading.Lock()
    sent = 0
    real_done = threading.Event()

    def attacker():
        nonlocal sent
        # The attacker stands for clients on other machines: on this one it takes only the
        # CPU the portal leaves, hashing threads (nice 10) included. Linux keeps a niceness
        # per thread; the real user's thread keeps the default.
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), ATTACKER_NICENESS)
        while True:
            with lock:
                if sent >= FLOOD and real_done.is_set():
                    return
                sent += 1
                name = f"random{sent}"
            try:
                status = post_login(address, name, "Wrong1pass", FLOOD_SOURCE, ABANDON_AFTER)
                key = str(status) if str(status) in counts else "other"
            except TimeoutError:
                key = "abandoned"  # the connection is closed: the request is abandoned
            except (OSError, http.client.HTTPException):
                key = "other"
            with lock:
                counts[key] += 1

    began = time.perf_counter()
    attackers = [threading.Thread(target=attacker) for _ in range(FLOOD_IN_FLIGHT)]
    for thread in attackers:
        thread.start()
    time.sleep(REAL_START)
    times, ok = real_logins(address, user, password)
    real_done.set()
    for thread in attackers:
        thread.join()
    seconds = time.perf_counter() - began
    print(f"{summary(times, ok)} {sent} {seconds:.1f} {counts['429']} {counts['401']} "
          f"{counts['503']} {counts['abandoned']} {counts['other']}")


def guesses(address, user, n):
    # Every connection is open before the first request is sent, so all N are in flight
    # at once.
    connections = [http.client.HTTPConnection(*address, timeout=60,
                                              source_address=(f"127.0.{1 + i // 250}.{1 + i % 250}", 0))
                   for i in range(n)]
    for conn in connections:
        conn.connect()
    go = threading.Barrier(n)
    statuses = [None] * n

    def guess(i):
        go.wait()
        try:
            statuses[i] = post_login(address, user, f"Wrong{i}pass", conn=connections[i])
        except (OSError, http.client.HTTPException):
            pass

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    checked, refused = statuses.count(401), statuses.count(429)
    print(f"{checked} {refused} {n - checked - refused}")


def main():
    command, url = sys.argv[1], urlsplit(sys.argv[2])
    address = (url.hostname, url.port)
    if command == "logins":
        print(summary(*real_logins(address, sys.argv[3], sys.argv[4])))
    elif command == "flood":
        flood(address, sys.argv[3], sys.argv[4])
    elif command == "guesses":
        guesses(address, sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
