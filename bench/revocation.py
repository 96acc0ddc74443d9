"""How soon one replica refuses a token another replica ended (PostgreSQL, ./x bench --postgres).

python3 bench/revocation.py REPLICA_A REPLICA_B ADMIN_PASSWORD [ROUNDS] prints
"p50_ms p99_ms max_ms rounds errors". Each round: log in on A, read twice on B (so B keeps
the caller), log out on A, then read on B until it answers 401, timed from A's answer.
Both replicas keep callers for OTE_CALLER_CACHE_MILLIS; only PostgreSQL's notification of
A's write can make B refuse sooner than that.
"""

import http.client
import json
import sys
import time
from urllib.parse import urlsplit

A, B, ADMIN_PASSWORD = sys.argv[1], sys.argv[2], sys.argv[3]
ROUNDS = int(sys.argv[4]) if len(sys.argv) > 4 else 100


def connection(url):
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)


def call(conn, method, path, token=None, body=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = token
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def main():
    a, b = connection(A), connection(B)
    delays, errors = [], 0
    for _ in range(ROUNDS):
        status, body = call(a, "POST", "/v1/authorization", body={"user": "admin", "password": ADMIN_PASSWORD})
        if status != 200:
            errors += 1
            continue
        token = json.loads(body)["token"]
        if any(call(b, "GET", "/v1/authorization", token)[0] != 200 for _ in range(2)):
            errors += 1
            continue
        status, _ = call(a, "DELETE", "/v1/authorization", token)
        ended = time.perf_counter()
        if status != 200:
            errors += 1
            continue
        while True:
            status, _ = call(b, "GET", "/v1/authorization", token)
            if status == 401:
                delays.append((time.perf_counter() - ended) * 1000)
                break
            if status != 200 or time.perf_counter() - ended > 10:
                errors += 1
                break
    delays.sort()
    if not delays:
        print(f"0 0 0 0 {errors}")
        return
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    print(f"{delays[len(delays) // 2]:.2f} {p99:.2f} {delays[-1]:.2f} {len(delays)} {errors}")


main()
