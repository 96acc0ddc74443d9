"""The identity provider's hot paths (./x bench; SPEC.md section 12).

python3 bench/oidc.py PORTAL TOKEN [ROUNDS] [SECONDS] prints
"p50_ms p99_ms rounds refreshes_per_s errors":
- a signed-in user who allowed the application before: `POST /v1/oauth/authorize` (the
  consent page's question, answered with a code at once) and `POST /oauth/token` (the code
  exchanged for tokens, PKCE checked), timed together, ROUNDS times on one connection; no
  password is hashed on this path;
- refresh-token rotations per second: 8 clients, each rotating its own grant's refresh
  token as fast as the answers come, for SECONDS.
"""

import base64
import hashlib
import http.client
import json
import os
import sys
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

PORTAL, TOKEN = sys.argv[1], sys.argv[2]
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 500
SECONDS = float(sys.argv[4]) if len(sys.argv) > 4 else 10
REDIRECT = "http://127.0.0.1:9/callback"
CLIENTS = 8


def connection():
    parts = urlsplit(PORTAL)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)


def call(conn, method, path, body=None, form=None, token=None):
    headers = {}
    if token:
        headers["Authorization"] = token
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        data = urlencode(form)
    else:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body) if body is not None else None
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def pkce():
    verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def sign_in(conn, client_id, secret, approve=None):
    """One authorization and code exchange; returns the token answer or None."""
    verifier, challenge = pkce()
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
                       "scope": "openid profile groups offline_access", "state": "s", "nonce": "n",
                       "code_challenge": challenge, "code_challenge_method": "S256"})
    body = {"query": query}
    if approve is not None:
        body["approve"] = approve
    status, answer = call(conn, "POST", "/v1/oauth/authorize", body=body, token=TOKEN)
    redirect = answer.get("data", {}).get("redirect") if status == 200 else None
    code = parse_qs(urlsplit(redirect).query).get("code", [None])[0] if redirect else None
    if not code:
        return None
    status, tokens = call(conn, "POST", "/oauth/token", form={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier, "client_id": client_id, "client_secret": secret})
    return tokens if status == 200 else None


def main():
    conn = connection()
    status, created = call(conn, "POST", "/v1/admin/oauth/clients", token=TOKEN,
                           body={"name": "bench", "redirectUris": [REDIRECT]})
    if status != 200:
        print("0 0 0 0 1")
        return
    client_id, secret = created["data"]["clientId"], created["data"]["clientSecret"]
    errors = 0 if sign_in(conn, client_id, secret, approve=True) else 1
    times = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        if sign_in(conn, client_id, secret) is None:
            errors += 1
            continue
        times.append((time.perf_counter() - began) * 1000)
    times.sort()

    counts, failures = [0] * CLIENTS, [0] * CLIENTS
    start = threading.Barrier(CLIENTS + 1)

    def rotate(i):
        own = connection()
        tokens = sign_in(own, client_id, secret)
        refresh = tokens and tokens.get("refresh_token")
        start.wait()
        ends = time.perf_counter() + SECONDS
        while refresh and time.perf_counter() < ends:
            status, answer = call(own, "POST", "/oauth/token", form={
                "grant_type": "refresh_token", "refresh_token": refresh,
                "client_id": client_id, "client_secret": secret})
            if status != 200:
                failures[i] += 1
                return
            refresh = answer["refresh_token"]
            counts[i] += 1
        if not refresh:
            failures[i] += 1

    threads = [threading.Thread(target=rotate, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    rate = sum(counts) / (time.perf_counter() - began)
    if not times:
        print(f"0 0 0 {rate:.0f} {errors + sum(failures) + 1}")
        return
    p50 = times[len(times) // 2]
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(f"{p50:.2f} {p99:.2f} {len(times)} {rate:.0f} {errors + sum(failures)}")


main()
