"""Schemathesis hooks for the OTE Portal API (run by `./x test`, see README "Testing").

Before the run, a small world is made through the API itself: pending and approved users,
a business admin with an approved business and a member, a pending business, and OpenID
Connect applications (a confidential and a public one). The fuzzer then acts as the system
administrator (a token it renews whenever a fuzzed request ended it: logout and refresh are
operations too) and, half of the time, aims `{id}` and `{clientId}` at those real rows, so
that every operation is reached past its 404; the identity provider's endpoints get real
authorization requests, codes, tokens and client credentials some of the time (`OAuth`).
"""

import ast
import base64
import hashlib
import hmac
import itertools
import json
import os
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import sys

import schemathesis
from schemathesis.core.parameters import ParameterLocation

# Hypothesis describes filter lambdas by parsing the source that holds them; on Python 3.11
# a parse near the default recursion limit can fail inside the `ast` module ("AST
# constructor recursion depth mismatch"), an error of the tool, not of the API.
sys.setrecursionlimit(5000)
# The same error comes from two parses at once: before 3.11.8 (CPython gh-106905) the depth
# that the conversion to Python objects keeps is one per interpreter, not per call, and the
# two workers are threads (a run of ./x fuzz failed so on `PUT /v1/admin/business/{id}`,
# parsing schemathesis's own source). One parse at a time.
_PARSE_LOCK = threading.Lock()
_parse = ast.parse


def _one_parse_at_a_time(*args, **kwargs):
    with _PARSE_LOCK:
        return _parse(*args, **kwargs)


ast.parse = _one_parse_at_a_time

BASE = os.environ["PORTAL_URL"]
ADMIN = os.environ["FUZZ_ADMIN_USER"]
ADMIN_PASSWORD = os.environ["FUZZ_ADMIN_PASSWORD"]
PASSWORD = "Fuzz1world"
# Hypothesis seeds `random` for each test case, so names and phones come from a counter.
SERIAL = itertools.count(time.time_ns() % 10**9)


def call(method, path, body=None, token=None, tries=5):
    """A request of the hooks' own (seeding, fresh rows), sent again after `Retry-After` when
    answered 503: on PostgreSQL, a change that collided with a simultaneous one of the
    fuzzer's is refused so ("try again", server/src/error.rs), and these requests only prepare
    cases, they test nothing."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        if error.code == 503 and tries > 1:
            time.sleep(min(float(error.headers.get("Retry-After") or 1), 2))
            return call(method, path, body, token, tries - 1)
        return error.code, json.loads(error.read() or b"null")


def login(user, password):
    status, body = call("POST", "/v1/authorization", {"user": user, "password": password})
    if status != 200:
        raise RuntimeError(f"login of {user} failed: {status} {body}")
    return body["token"]


def user_body(name, is_admin):
    return {"user": name, "password": PASSWORD, "phone": f"+99{next(SERIAL):010}",
            "realName": name.title(), "isAdmin": is_admin}


def seed():
    """Real rows for the `{id}`s; returns (user ids, business ids)."""
    root = SystemAdministrator.root()
    users, businesses = [], []
    for name, is_admin in [("fz-pending", False), ("fz-general", True), ("fz-boss", True), ("fz-asker", True)]:
        status, body = call("POST", "/v1/user", user_body(name, is_admin))
        assert status == 200, body
        users.append(body["data"]["id"])
    for id in users[1:]:
        assert call("PUT", f"/v1/admin/user/{id}", {"status": 1}, root)[0] == 200
    for name, approve in [("fz-boss", True), ("fz-asker", False)]:
        token = login(name, PASSWORD)
        status, body = call("POST", "/v1/business", {"name": name + "-shop", "introduce": "seeded",
                                                     "objective": "fuzzing", "scale": "1"}, token)
        assert status == 200, body
        businesses.append(body["data"]["id"])
        if approve:
            assert call("PUT", f"/v1/admin/business/{businesses[-1]}", {"status": 1, "comment": "ok"}, root)[0] == 200
            status, body = call("POST", "/v1/admin/user", user_body("fz-member", False), login(name, PASSWORD))
            assert status == 200, body
            users.append(body["data"]["id"])
    return users, businesses



def new_user_id(prefix):
    """The id of a new user, still pending."""
    status, body = call("POST", "/v1/user", user_body(f"{prefix}{next(SERIAL)}", False))
    assert status == 200, body
    return body["data"]["id"]


def new_business_id():
    """The id of a new pending business, founded by a new approved admin."""
    name, token = fresh_user("fz-owner", is_admin=True)
    status, body = call("POST", "/v1/business", {"name": name + "-shop", "introduce": "made",
                                                 "objective": "fuzzing", "scale": "1"}, token)
    assert status == 200, body
    return body["data"]["id"]


def fresh_user(prefix, is_admin):
    """A new approved user, logged in: (name, token)."""
    name, token, _ = fresh_user_with_id(prefix, is_admin)
    return name, token


def fresh_user_with_id(prefix, is_admin):
    name = f"{prefix}{next(SERIAL)}"
    status, body = call("POST", "/v1/user", user_body(name, is_admin))
    assert status == 200, body
    root = SystemAdministrator.root()
    assert call("PUT", f"/v1/admin/user/{body['data']['id']}", {"status": 1}, root)[0] == 200
    return name, login(name, PASSWORD), body["data"]["id"]


def totp_code(secret, at=None):
    """RFC 6238 (SHA-1, 6 digits, 30 s), as an authenticator app computes it."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // 30)
    mac = hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 15
    return f"{(int.from_bytes(mac[offset:offset + 4], 'big') & 0x7FFFFFFF) % 1_000_000:06d}"


def enrolling_user():
    """A new user who has started enrolling in two-factor sign-in: (id, token, secret)."""
    _, token, id = fresh_user_with_id("fz-enrol", False)
    status, body = call("POST", "/v1/user/totp", {}, token)
    assert status == 200, body
    return id, token, body["data"]["secret"]


def two_factor_user():
    """The id of a new user with two-factor sign-in on, for the administrator to reset."""
    id, token, secret = enrolling_user()
    status, body = call("PUT", "/v1/user/totp", {"code": totp_code(secret, time.time() - 30)}, token)
    assert status == 200, body
    return id


def personal_token_id():
    """The id of a new personal token of the system administrator (the fuzzer)."""
    status, body = call("POST", "/v1/user/tokens", {"name": "fz", "expiresInDays": 1, "scope": "read"},
                        SystemAdministrator.root())
    assert status == 200, body
    return body["data"]["id"]


def webhook_with_delivery():
    """A new endpoint (on loopback) with one delivery: (endpoint id, delivery id)."""
    root = SystemAdministrator.root()
    status, body = call("POST", "/v1/admin/webhooks", {"url": LOOPBACK_URL, "events": ["*"]}, root)
    assert status == 200, body
    hook = body["data"]["id"]
    # Its own update is an audited action, hence an event, hence a delivery to it.
    assert call("PUT", f"/v1/admin/webhooks/{hook}", {"description": "fz"}, root)[0] == 200
    status, body = call("GET", f"/v1/admin/webhooks/{hook}/deliveries", token=root)
    assert status == 200 and body["data"], body
    return hook, body["data"][0]["id"]


# Endpoints with a delivery each, taken in turn by `failed_delivery`.
DELIVERIES = []


def failed_delivery():
    """An endpoint and its delivery, most likely failed, so that sending it again is served:
    (endpoint id, delivery id). The fuzz portals give up on a delivery after its first failed
    attempt (`OTE_WEBHOOK_GIVE_UP_SECONDS=1` in ./x; nothing listens on `LOOPBACK_URL`), within
    a second of its making or its last retry; otherwise `POST .../retry` could only answer
    409 and, never once served, is taken for an operation whose authentication fails (a
    warning, hence a failed run, in a short run). A few pairs taken in turn, rather than a new
    one waited for: one comes round again when it has had time to fail (a retry too soon is
    409, allowed in schemathesis.toml), and no case waits."""
    if len(DELIVERIES) < 8:
        DELIVERIES.append(webhook_with_delivery())
    return DELIVERIES[next(SERIAL) % len(DELIVERIES)]


def other_session_id():
    """The id of a new session of the system administrator, besides the fuzzer's own."""
    token = login(ADMIN, ADMIN_PASSWORD)
    status, body = call("GET", "/v1/user/sessions", token=token)
    assert status == 200, body
    return next(s["id"] for s in body["data"] if s["current"])


# --- The identity provider (SPEC.md section 12) -----------------------------------------

# Where the applications the hooks register send the browser back: loopback, a port nothing
# listens on (the portal never fetches these; it only names them in redirects).
REDIRECT_URI = "http://127.0.0.1:9/fz-callback"
POST_LOGOUT_URI = "http://127.0.0.1:9/fz-signed-out"
CLIENT_ID = re.compile(r"[0-9a-f]{24}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """`GET /oauth/logout` answers 303: the hooks read that answer, not the page after it."""

    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def send(method, path, data=None, headers=None):
    """A raw request of the hooks' own: (status, headers, body bytes), redirects not followed,
    503 sent again after `Retry-After` (as `call` does)."""
    for attempt in range(5):
        request = urllib.request.Request(BASE + path, data=data, method=method, headers=headers or {})
        try:
            with OPENER.open(request, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            if error.code == 503 and attempt < 4:
                time.sleep(min(float(error.headers.get("Retry-After") or 1), 2))
                continue
            return error.code, error.headers, error.read()


def form_call(path, fields, authorization=None):
    """A form-encoded POST to an OAuth endpoint: (status, JSON body)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if authorization:
        headers["Authorization"] = authorization
    status, _, body = send("POST", path, urllib.parse.urlencode(fields).encode(), headers)
    return status, json.loads(body or b"null")


def basic(client_id, client_secret):
    """RFC 6749 2.3.1: both halves form-encoded, then Base64."""
    pair = f"{urllib.parse.quote_plus(client_id)}:{urllib.parse.quote_plus(client_secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def new_client(public, name="fz-app"):
    """A new application, registered through the API: (client id, secret or None)."""
    status, body = call("POST", "/v1/admin/oauth/clients", {
        "name": f"{name}-{next(SERIAL)}", "redirectUris": [REDIRECT_URI], "public": public,
        "postLogoutRedirectUris": [POST_LOGOUT_URI]}, SystemAdministrator.root())
    assert status == 200, body
    return body["data"]["clientId"], body["data"].get("clientSecret")


def pkce_pair():
    """(verifier, S256 challenge) of RFC 7636."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_query(client_id, scope="openid", challenge=None, **extra):
    """An authorization request's query string as a relying party builds it: the client, its
    registered redirect URI exactly, `response_type=code`, the scope, an S256 challenge,
    `state` and `nonce`."""
    if challenge is None:
        challenge = pkce_pair()[1]
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI, "scope": scope,
              "code_challenge": challenge, "code_challenge_method": "S256",
              "state": f"fz{next(SERIAL)}", "nonce": f"n{next(SERIAL)}", **extra}
    return urllib.parse.urlencode(params)


# The scopes the hooks' requests ask for, taken in turn.
SCOPES = ["openid", "openid profile", "openid offline_access", "openid profile phone groups offline_access",
          "openid groups"]


class OAuth:
    """The applications the hooks use for real authorization requests, codes and tokens: one
    confidential and one public, registered at the start and checked before each use (the
    fuzzer, as the system administrator, may disable, change or delete them: stateful links
    carry their ids from the list into `PUT` and `DELETE`); a damaged one is put right again,
    a deleted one registered anew. `spares` are the real rows `PUT .../{clientId}` is aimed at,
    `consented` the one `DELETE /v1/user/applications/{clientId}` is, so that neither changes
    the two in use. Codes come from a session of the system administrator of the hooks' own
    (`flow_token`): `GET /oauth/logout` may end it; it is signed in again then."""

    lock = threading.Lock()
    clients = {}
    spares = []
    consented = None
    flow_token = None

    @classmethod
    def seed(cls):
        for public in (False, True):
            cls.clients[public] = new_client(public, "fz-public" if public else "fz-confidential")
        cls.spares = [new_client(public, "fz-spare")[0] for public in (False, True, False)]
        cls.consented = new_client(False, "fz-consented")[0]

    @classmethod
    def client(cls, public):
        """A usable application of the kind asked for: (client id, secret or None)."""
        with cls.lock:
            client_id, secret = cls.clients[public]
            # Read-only checks: an unsigned request is answered without a write, and a logout
            # with no ID token ends nothing.
            probe = call("POST", "/v1/oauth/authorize", {"query": authorize_query(client_id)})[0]
            logout = send("GET", "/oauth/logout?" + urllib.parse.urlencode(
                {"client_id": client_id, "post_logout_redirect_uri": POST_LOGOUT_URI}))[0]
            if probe != 200 or logout != 303:
                status, _ = call("PUT", f"/v1/admin/oauth/clients/{client_id}", {
                    "enabled": True, "redirectUris": [REDIRECT_URI], "postLogoutRedirectUris": [POST_LOGOUT_URI]},
                    SystemAdministrator.root())
                if status != 200:
                    cls.clients[public] = new_client(public, "fz-public" if public else "fz-confidential")
            return cls.clients[public]

    @classmethod
    def any_client(cls):
        return cls.client(next(SERIAL) % 2 == 0)

    @classmethod
    def flow(cls):
        """The hooks' own session, signed in anew when it has ended."""
        if cls.flow_token is None:
            cls.flow_token = login(ADMIN, ADMIN_PASSWORD)
        return cls.flow_token

    @classmethod
    def code(cls, client_id, scope="openid", token=None):
        """A fresh code for the application: (code, verifier), or None (the fuzzer changed
        something meanwhile). With `token`, in that session; else in the hooks' own."""
        verifier, challenge = pkce_pair()
        query = authorize_query(client_id, scope, challenge)
        for _ in range(2):
            status, body = call("POST", "/v1/oauth/authorize", {"query": query, "approve": True},
                                token or cls.flow())
            data = (body or {}).get("data") or {}
            if status == 200 and data.get("login") and token is None:
                cls.flow_token = None
                continue
            redirect = data.get("redirect") or ""
            code = urllib.parse.parse_qs(urllib.parse.urlsplit(redirect).query).get("code")
            return (code[0], verifier) if code else None
        return None

    @classmethod
    def tokens(cls, public=None, scope=None, token=None):
        """A real token answer (access, ID and maybe refresh token) and the application it
        was given to: (client id, secret, answer), or None."""
        client_id, secret = cls.client(public) if public is not None else cls.any_client()
        scope = scope or SCOPES[next(SERIAL) % len(SCOPES)]
        got = cls.code(client_id, scope, token)
        if got is None:
            return None
        code, verifier = got
        status, answer = form_call("/oauth/token", dict(credentials_form(client_id, secret), grant_type="authorization_code",
                                                        code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier))
        return (client_id, secret, answer) if status == 200 else None

    @classmethod
    def consented_client(cls):
        """The id of an application the system administrator (the fuzzer) has allowed: a
        consent remembered anew before each case (the last case may have revoked it)."""
        with cls.lock:
            client_id = cls.consented
            if call("POST", "/v1/oauth/authorize", {"query": authorize_query(client_id)})[0] != 200:
                status, _ = call("PUT", f"/v1/admin/oauth/clients/{client_id}", {
                    "enabled": True, "redirectUris": [REDIRECT_URI]}, SystemAdministrator.root())
                if status != 200:
                    cls.consented = client_id = new_client(False, "fz-consented")[0]
        cls.code(client_id)
        return client_id


def credentials_form(client_id, secret):
    """`client_secret_post` (or `none` for a public application)."""
    return {"client_id": client_id} if secret is None else {"client_id": client_id, "client_secret": secret}


def with_credentials(case, fields, client_id, secret):
    """The form with the application's credentials, in the body or (every other time, for a
    confidential application) in `Authorization: Basic`, which `SystemAdministrator.get` then
    leaves in place."""
    if secret is not None and next(SERIAL) % 2 == 0:
        case.headers = dict(case.headers or {}, Authorization=basic(client_id, secret))
        return {k: v for k, v in fields.items() if k not in ("client_id", "client_secret")}
    return dict({k: v for k, v in fields.items() if k not in ("client_id", "client_secret")},
                **credentials_form(client_id, secret))


# Which turn each operation is at, in each phase: the real requests below take turns with
# generated ones (turn 0 is always a real one), and until a case of the operation has been
# accepted in a phase, every turn is 0. Schemathesis warns of an operation whose positive
# cases a phase saw all refused (which fails the run), and a phase may send only a few (the
# coverage phase of one of these sends three or four; a short run's fuzzing phase not many
# more), while some cases made are never sent.
TURNS = {}
ACCEPTED = set()
TURNS_LOCK = threading.Lock()
REAL_REQUESTS = {("POST", "/v1/oauth/authorize"), ("POST", "/oauth/token"), ("POST", "/oauth/revoke"),
                 ("GET", "/oauth/userinfo"), ("POST", "/oauth/userinfo"), ("GET", "/oauth/logout")}


def phase_key(case):
    phase = case.meta.phase.name if case.meta is not None else None
    return case.operation.method.upper(), case.operation.path, phase


def turn(case, modulo):
    key = phase_key(case)
    with TURNS_LOCK:
        step = next(TURNS.setdefault(key, itertools.count())) % modulo
        return step if key in ACCEPTED else 0


@schemathesis.hook
def after_call(ctx, case, response):
    """Notes which operations have had a case accepted in which phase (`turn`)."""
    if (case.operation.method.upper(), case.operation.path) in REAL_REQUESTS and 200 <= response.status_code < 400:
        with TURNS_LOCK:
            ACCEPTED.add(phase_key(case))


def real_token_request(case):
    """A positive `POST /oauth/token`: in turn, a real code exchanged (twice in four: it is
    the grant relying parties use most), a real refresh token, or real credentials with the
    generated grant (`invalid_grant`, 400). Without them the form would name no registered
    application (`invalid_client` 401, or 400 for a missing `client_id`) in nearly every case,
    and Schemathesis would take the operation for one whose schema does not match it."""
    body = case.body if isinstance(case.body, dict) else {}
    step = turn(case, 4)
    if step in (0, 1):
        # Three tries: the fuzzer's other worker may change the application meanwhile, and a
        # phase may send only this one positive case.
        for _ in range(3):
            client_id, secret = OAuth.client(step == 1)
            got = OAuth.code(client_id, SCOPES[next(SERIAL) % len(SCOPES)])
            if got is not None:
                break
        else:
            return
        code, verifier = got
        case.body = with_credentials(case, {"grant_type": "authorization_code", "code": code,
                                            "redirect_uri": REDIRECT_URI, "code_verifier": verifier}, client_id, secret)
    elif step == 2:
        got = OAuth.tokens(scope="openid profile groups offline_access")
        if got is None or "refresh_token" not in got[2]:
            return
        client_id, secret, answer = got
        fields = {"grant_type": "refresh_token", "refresh_token": answer["refresh_token"]}
        if next(SERIAL) % 2 == 0:
            fields["scope"] = "openid offline_access"
        case.body = with_credentials(case, fields, client_id, secret)
    else:
        client_id, secret = OAuth.any_client()
        case.body = with_credentials(case, body, client_id, secret)


def real_revoke_request(case):
    """A positive `POST /oauth/revoke`: in turn, real credentials with a real refresh token of
    that application, with a real access token, with the generated token (unknown: 200 all
    the same), or the generated form as it was (mostly no registered application: 400, 401)."""
    if not isinstance(case.body, dict):
        return
    step = turn(case, 4)
    if step == 3:
        return
    if step == 2:
        client_id, secret = OAuth.any_client()
        case.body = with_credentials(case, case.body, client_id, secret)
        return
    got = OAuth.tokens(scope="openid offline_access")
    if got is None:
        return
    client_id, secret, answer = got
    token, hint = (answer.get("refresh_token"), "refresh_token") if step == 0 else (answer["access_token"], "access_token")
    fields = dict(case.body, token=token or answer["access_token"])
    if "token_type_hint" in fields:
        fields["token_type_hint"] = hint
    case.body = with_credentials(case, fields, client_id, secret)


def real_userinfo_request(case):
    """`GET|POST /oauth/userinfo`: three times in four with a real access token (the fourth
    keeps the fuzzer's portal token, refused with 401)."""
    if turn(case, 4) == 3:
        return
    got = OAuth.tokens()
    if got is not None:
        case.headers = dict(case.headers or {}, Authorization="Bearer " + got[2]["access_token"])


def real_logout_request(case):
    """A positive `GET /oauth/logout`: in turn, a registered post-logout URI named with the
    application's id, or with a real ID token (of a session made for it: the logout ends
    it), or the generated query as it was (a random ID token or URI is refused, 422)."""
    query = case.query if isinstance(case.query, dict) else {}
    step = turn(case, 3)
    if step == 0:
        client_id, _ = OAuth.any_client()
        query = {k: v for k, v in query.items() if k != "id_token_hint"}
        case.query = dict(query, client_id=client_id, post_logout_redirect_uri=POST_LOGOUT_URI)
    elif step == 1:
        got = OAuth.tokens(token=login(ADMIN, ADMIN_PASSWORD))
        if got is None:
            return
        client_id, _, answer = got
        query = dict(query, id_token_hint=answer["id_token"])
        if next(SERIAL) % 2 == 0:
            query["post_logout_redirect_uri"] = POST_LOGOUT_URI
        else:
            query.pop("post_logout_redirect_uri", None)
        if "client_id" in query:
            query["client_id"] = client_id
        case.query = query


def real_authorize_request(case):
    """A positive `POST /v1/oauth/authorize`: three times in four, a real authorization
    request (a registered application, its redirect URI exactly, code, openid, S256, state,
    nonce), sometimes with more scopes or a `prompt`; `approve` stays as generated. The fourth
    keeps the generated query (422: no registered application)."""
    if turn(case, 4) == 3 or not isinstance(case.body, dict):
        return
    client_id, _ = OAuth.any_client()
    extra = {}
    prompt = ["", "", "none", "consent", "login", ""][next(SERIAL) % 6]
    if prompt:
        extra["prompt"] = prompt
    case.body = dict(case.body, query=authorize_query(client_id, SCOPES[next(SERIAL) % len(SCOPES)], **extra))


def fresh_client_to_delete():
    """A new application to remove, every other one with a consent and a code, so that its
    removal has grants to end."""
    client_id, _ = new_client(next(SERIAL) % 2 == 0, "fz-doomed")
    if next(SERIAL) % 2 == 0:
        OAuth.code(client_id)
    return client_id


def real_client_id(operation):
    """The id of a real application for the `{clientId}` of an operation."""
    method, path = operation.method.upper(), operation.path
    if (method, path) == ("DELETE", "/v1/admin/oauth/clients/{clientId}"):
        return fresh_client_to_delete()
    if (method, path) == ("DELETE", "/v1/user/applications/{clientId}"):
        return OAuth.consented_client()
    return OAuth.spares[next(SERIAL) % len(OAuth.spares)]


@schemathesis.auth(refresh_interval=None)
class SystemAdministrator:
    """Who the fuzzer is. Mostly the system administrator, with a token renewed whenever
    a fuzzed request ended it (logout and refresh are operations too). Two operations
    need someone else, a new user for each case (the fuzzer, as the system administrator,
    may reset or forbid any user it finds): `PUT /v1/user`, whose wrong old passwords
    count toward the caller's login throttle (5 would lock the fuzzer out), and
    `POST /v1/business`, which only an approved admin without a business may call, and
    `POST /v1/user/tokens`, where one user may hold at most 100 tokens. Logout, refresh and
    ending one's other sessions would end the token the two workers share: they get their
    own."""

    token = None
    others = {}

    @classmethod
    def root(cls):
        if cls.token is None or call("GET", "/v1/authorization", token=cls.token)[0] != 200:
            cls.token = login(ADMIN, ADMIN_PASSWORD)
        return cls.token

    def get(self, case, ctx):
        operation = (case.operation.method.upper(), case.operation.path)
        if operation == ("PUT", "/v1/user/totp") and "Authorization" in (case.headers or {}):
            # map_case chose the enrolling user whose code the body holds.
            return case.headers["Authorization"]
        if operation[1] in OAUTH_WIRE_PATHS and "Authorization" in (case.headers or {}):
            # map_case chose an application's credentials (Basic) or an access token (Bearer).
            return case.headers["Authorization"]
        if operation in {("DELETE", "/v1/authorization"), ("PUT", "/v1/authorization")}:
            # They end the token they are sent with: a session of its own for each.
            return login(ADMIN, ADMIN_PASSWORD)
        if operation == ("DELETE", "/v1/user/sessions"):
            # It ends every other session of its caller, the fuzzer's own among them (two
            # workers share it): someone else's.
            return self.other(operation, "fz-leaver", is_admin=False, uses=1)
        if operation == ("PUT", "/v1/user"):
            return self.other(operation, "fz-changer", is_admin=False, uses=1)
        if operation == ("POST", "/v1/authorization"):
            return None
        if operation == ("POST", "/v1/business"):
            return self.other(operation, "fz-founder", is_admin=True, uses=1)
        if operation == ("POST", "/v1/user/tokens"):
            return self.other(operation, "fz-scripter", is_admin=False, uses=50)
        return self.root()

    def other(self, operation, prefix, is_admin, uses):
        token, left = self.others.get(operation, (None, 0))
        if left == 0 or call("GET", "/v1/authorization", token=token)[0] != 200:
            token, left = fresh_user(prefix, is_admin)[1], uses
        self.others[operation] = (token, left - 1)
        return token

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = data


def state_valid_body(operation, body):
    """A positive body that passes the checks of the server's state too: real credentials
    for a login, the real old password for a change, a real business for a new user
    (where the body names one). Otherwise those operations could only answer 401, 422
    and 404; their refusals are tested in server/tests/api/."""
    if not isinstance(body, dict):
        return body
    if operation == ("POST", "/v1/authorization"):
        return {"user": Credentials.current(), "password": PASSWORD}
    if operation == ("PUT", "/v1/user"):
        return dict(body, oldPassword=PASSWORD)
    if operation == ("DELETE", "/v1/user/totp"):
        return dict(body, password=ADMIN_PASSWORD)
    if operation == ("POST", "/v1/admin/user") and "businessId" in body:
        return dict(body, businessId=BUSINESSES[next(SERIAL) % len(BUSINESSES)])
    if operation in {("POST", "/v1/admin/oauth/clients"), ("PUT", "/v1/admin/oauth/clients/{clientId}")}:
        return dict(body, **{key: distinct_uris(body[key]) for key in ("redirectUris", "postLogoutRedirectUris")
                             if isinstance(body.get(key), list)})
    return body


def distinct_uris(uris):
    """A list of URIs with each one once, as the server compares them: after trimming the
    blanks around them (app/src/model/oauth.rs `checked`; 422 otherwise). A schema can state
    distinct items (`uniqueItems`) but not distinct once trimmed."""
    seen, kept = set(), []
    for uri in uris:
        key = uri.strip(" \t\n\r") if isinstance(uri, str) else json.dumps(uri)
        if key not in seen:
            seen.add(key)
            kept.append(uri)
    return kept


# The identity provider's endpoints whose `Authorization` is an application's or an access
# token's, not the portal's token (map_case sets it when it has a real one).
OAUTH_WIRE_PATHS = {"/oauth/token", "/oauth/revoke", "/oauth/userinfo"}


class Credentials:
    """A user to log in as, made anew every few logins (the fuzzer, acting as the system
    administrator, may meanwhile forbid it or reset its password)."""

    name, left = None, 0

    @classmethod
    def current(cls):
        if cls.left == 0:
            cls.name, cls.left = fresh_user("fz-signin", is_admin=False)[0], 5
        cls.left -= 1
        return cls.name


# Where every webhook URL the fuzzer makes points: 127.0.0.1 (the only network the server
# allows here), a port nothing listens on. No name is ever looked up, nothing leaves the host.
LOOPBACK_URL = "http://127.0.0.1:9/fuzz"


# The rule of `url` (app/src/rules.rs, WebhookUrl): a URL breaking it is refused before any
# lookup, so negative cases keep theirs.
URL_RULE = re.compile(r"[ \t\n\r]*https?://[^\x00-\x20\x7f-\x9f]{1,2040}[ \t\n\r]*")


def keep_webhooks_home(case):
    """Every case, negative ones too: a URL that passes the rule becomes a loopback one."""
    body = case.body
    if case.operation.path.startswith("/v1/admin/webhooks") and isinstance(body, dict):
        url = body.get("url")
        if isinstance(url, str) and URL_RULE.fullmatch(url):
            body["url"] = LOOPBACK_URL


def real_id(operation):
    """The id of a real row for the `{id}` of an operation: made afresh where a success uses
    the row up (`FRESH_IDS`), else one of the seeded ones (a counter, not a coin: Hypothesis
    seeds `random` for each case)."""
    method, path = operation.method.upper(), operation.path
    if (method, path) in FRESH_IDS:
        return FRESH_IDS[method, path]()
    pool = BUSINESSES if "business" in path else USERS
    return pool[next(SERIAL) % len(pool)]


def is_null(value):
    """Whether a path value is a null that a stateful link carried over (Python's None, or
    the text it becomes on the way)."""
    return value is None or value in ("None", "null")


def no_null_ids(case):
    """Every case, negative ones too, unless their path is what they broke: a null path id
    becomes a real row's.

    The stateful phase follows links that Schemathesis infers from the responses, and a
    user's `businessId` is null when the user belongs to no business: the link from a user
    to `/v1/admin/business/{id}` then carries that null into the path, and the request goes
    to `/v1/admin/business/None` (a few hundred times in a few minutes of the stateful
    phase, mostly in cases made negative by their body or a missing `Authorization`, which
    `map_case` used to leave alone). A link's values are given, not generated, and pass no
    path-parameter hook (`map_path_parameters`); so it is done here, on the whole case. A
    case negative for its body or headers keeps what makes it negative (and Schemathesis
    judges a case's mode anew from its values after a hook changed them)."""
    params = case.path_parameters
    # Only ids the path has: `{clientId}` paths have no `id` to mend (an `id` added there would
    # be a path parameter the operation does not declare, a negative case).
    if not params or not any(k in params and is_null(params[k]) for k in ("id", "deliveryId")):
        return
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH):
        # A null that a negative case put there itself (the coverage phase tries `null` for
        # an id): it stays, to be refused.
        return
    if "deliveryId" in params:
        # Two ids that must belong together: a generated pair is never found.
        params["id"], params["deliveryId"] = webhook_with_delivery()
    else:
        params["id"] = real_id(case.operation)


# The rule of `from` and `to` (app/src/rules.rs, DateTime): an RFC 3339 date and time, with
# blanks around it. Only the fields are read here, to order two values; whether a date
# exists is the server's to judge (a value breaking the rule stays broken either way).
DATE_TIME = re.compile(
    r"[ \t\n\r]*([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))[ \t\n\r]*"
)


def moment(value):
    """A date-time parameter as (Unix seconds, nanoseconds), or None when it has not the
    shape of one (as DateTime::read does it: a civil date's days since 1970-01-01 by
    Howard Hinnant's algorithm, which takes year 0 too, unlike Python's datetime)."""
    match = DATE_TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
    nanos = int((match[7] or "").ljust(9, "0"))
    offset = 0 if match[8] is None else int(match[9]) * 3600 + int(match[10]) * 60
    if match[8] == "-":
        offset = -offset
    y = year - 1 if month <= 2 else year
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    days = era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468
    return days * 86_400 + hour * 3600 + minute * 60 + second - offset, nanos


def ordered_audit_range(case):
    """Every case, negative ones too: `GET /v1/admin/audit` with a `from` after its `to`
    gets the two swapped.

    SPEC.md section 11: `from` after `to` is refused with 422 (the parameters' descriptions
    in the OpenAPI document say so), a relation between two parameters that a schema cannot
    state; so a generated pair of valid date-times is put in order here, and a positive case
    is then one the server accepts. Only two values that both have the shape of a date-time
    are swapped: a value a negative case broke stays as it was, and where the case is
    negative for another parameter, the swap takes nothing from it (the refusal of a
    reversed range is tested in server/tests/api/audit_search.rs)."""
    query = case.query
    if case.operation.path != "/v1/admin/audit" or not query:
        return
    start, end = moment(query.get("from")), moment(query.get("to"))
    if start is not None and end is not None and start > end:
        query["from"], query["to"] = query["to"], query["from"]


@schemathesis.hook
def map_case(ctx, case):
    """Every case: webhook URLs on loopback, no null path id, the audit range in order. Then
    positive cases only (negative ones must stay invalid): bodies valid for the server's
    state too (`state_valid_body`), and, some of the time, real authorization requests,
    codes, tokens and client credentials for the identity provider (`real_*_request`)."""
    keep_webhooks_home(case)
    no_null_ids(case)
    ordered_audit_range(case)
    mode = case.meta.generation.mode if case.meta else None
    if mode is None or not mode.is_positive:
        return case
    operation = (case.operation.method.upper(), case.operation.path)
    case.body = state_valid_body(operation, case.body)
    if operation == ("PUT", "/v1/user/totp") and isinstance(case.body, dict):
        # A right code can only come from the secret: a user who just started enrolling.
        _, token, secret = enrolling_user()
        case.body = dict(case.body, code=totp_code(secret))
        case.headers = dict(case.headers or {}, Authorization=token)
    if operation == ("POST", "/v1/oauth/authorize"):
        real_authorize_request(case)
    elif operation == ("POST", "/oauth/token"):
        real_token_request(case)
    elif operation == ("POST", "/oauth/revoke"):
        real_revoke_request(case)
    elif operation[1] == "/oauth/userinfo":
        real_userinfo_request(case)
    elif operation == ("GET", "/oauth/logout"):
        real_logout_request(case)
    params = case.path_parameters or {}
    if "deliveryId" in params:
        # Two ids that must belong together (a generated pair is never found), of a delivery
        # that can be sent again.
        params["id"], params["deliveryId"] = failed_delivery()
    return case


# Rows made afresh for the operations that use them up (a reset two-factor, a revoked
# token, an ended session are gone after one success). A deleted user or business is gone
# too, and the seeded ones with it: every later operation aimed at them would meet only
# 404 and 409, and a short run (the PostgreSQL one of `./x test`) warned of missing test
# data for `PUT /v1/admin/user/{id}/password`.
FRESH_IDS = {
    ("PUT", "/v1/admin/webhooks/{id}"): lambda: webhook_with_delivery()[0],
    ("DELETE", "/v1/admin/webhooks/{id}"): lambda: webhook_with_delivery()[0],
    ("GET", "/v1/admin/webhooks/{id}/deliveries"): lambda: webhook_with_delivery()[0],
    ("DELETE", "/v1/admin/user/{id}/totp"): two_factor_user,
    ("DELETE", "/v1/user/tokens/{id}"): personal_token_id,
    ("DELETE", "/v1/user/sessions/{id}"): other_session_id,
    ("DELETE", "/v1/admin/user/{id}"): lambda: new_user_id("fz-gone"),
    ("DELETE", "/v1/admin/business/{id}"): new_business_id,
}


SESSION_ID = re.compile(r"[0-9a-f]{32}")


def valid_id(path, value):
    """Whether a generated id is one the schema allows (a session's 32 hexadecimal digits,
    else a whole number from 1 that fits in 64 bits): only those are aimed at real rows, so
    that an id a negative case broke on purpose stays broken (replaced, the case would be
    valid, and rightly accepted)."""
    if path == "/v1/user/sessions/{id}":
        return isinstance(value, str) and SESSION_ID.fullmatch(value) is not None
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,19}", value):
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2**63


@schemathesis.hook
def map_path_parameters(ctx, path_parameters):
    """Every other generated id becomes the id of a real row of the right kind (a counter,
    not a coin: Hypothesis seeds `random` for each case)."""
    if path_parameters and not all(
        valid_id(ctx.operation.path, path_parameters[k]) for k in ("id", "deliveryId") if k in path_parameters
    ):
        return path_parameters
    if path_parameters and "deliveryId" in path_parameters and next(SERIAL) % 4 != 0:
        # Two ids that must belong together: a random pair is almost never found.
        path_parameters["id"], path_parameters["deliveryId"] = webhook_with_delivery()
    elif path_parameters and "id" in path_parameters and next(SERIAL) % 2 == 0:
        path_parameters["id"] = real_id(ctx.operation)
    elif (path_parameters and isinstance(path_parameters.get("clientId"), str)
          and CLIENT_ID.fullmatch(path_parameters["clientId"]) and next(SERIAL) % 2 == 0):
        # Only a well-formed id (24 hexadecimal digits) is aimed at a real application: one a
        # negative case broke on purpose stays broken.
        path_parameters["clientId"] = real_client_id(ctx.operation)
    return path_parameters


USERS, BUSINESSES = seed()
OAuth.seed()

