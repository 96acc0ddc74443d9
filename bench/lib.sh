# What both benchmark programs share (bench/run.sh on SQLite, bench/postgres.sh): the
# table's little helpers, starting portals, logging in, and wrk's figures. Sourced; the
# caller sets WORK, PIDS, DURATION and ADMIN_PASSWORD.

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
calc() { python3 -c "print($1)"; }
mb() { calc "f'{$1 / 1024:.1f} MB'"; }
yes_no() { calc "'yes' if $1 else 'no'"; }

# Starts a program whose log says "listening on http://...", and waits for it.
# Sets URL and PID.
start() {
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 1 300); do
    URL=$(grep -o 'listening on http://[0-9.:]*' "$log" | head -n 1 | sed 's/listening on //') || true
    [ -n "$URL" ] && return
    sleep 0.1
  done
  cat "$log" >&2; exit 1
}

# database_url NAME: the SQLite database $WORK/NAME.db, or with BENCH_POSTGRES_URL (a
# server's URL ending in a database name) the PostgreSQL database NAME on that server,
# created if missing.
database_url() {
  if [ -z "${BENCH_POSTGRES_URL:-}" ]; then
    echo "sqlite://$WORK/$1.db"
    return
  fi
  psql -q "$BENCH_POSTGRES_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1 ||
    psql -q "$BENCH_POSTGRES_URL" -c "CREATE DATABASE $1" >/dev/null
  echo "${BENCH_POSTGRES_URL%/*}/$1"
}

# portal DATABASE [VARIABLE=value...]: the portal on a free port, on the database NAME
# (database_url), with the settings given on top of the defaults.
portal() {
  local database=$1; shift
  local url
  url=$(database_url "$database")
  exec env LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_ADDR=127.0.0.1:0 \
    DATABASE_URL="$url" OTE_ADMIN_PASSWORD=$ADMIN_PASSWORD RUST_LOG=warn,server=info \
    "$@" target/release/ote-portal
}
# Webhooks, if any, may reach 127.0.0.1 only.
export OTE_WEBHOOK_ALLOWED_NETWORKS=127.0.0.1/32
# The throughput figures measure the server's work, not the per-address limit of password
# work (60 a minute by default), which a login benchmark from one address would hit at once.
UNLIMITED=OTE_RATE_PASSWORD_PER_MINUTE=0

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

login() {
  curl -sf "$1/v1/authorization" -d "{\"user\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" |
    python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])'
}

# register URL NAME PHONE: a user who may log in with $ADMIN_PASSWORD (registered, pending).
register() {
  curl -sf "$1/v1/user" -o /dev/null \
    -d "{\"user\":\"$2\",\"password\":\"$ADMIN_PASSWORD\",\"phone\":\"$3\",\"realName\":\"Bench $2\",\"isAdmin\":false}"
}

# wrk's summary as "req/s p50 p99 errors" (latencies in ms; errors: socket errors and
# answers other than 2xx/3xx, which must stay 0 for a figure to count).
wrk_figures() {
  awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    /Socket errors/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 } /Non-2xx/ { errors += $5 }
    END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, errors }'
}

# load URL CONNECTIONS [wrk options...]: prints "req/s p50 p99 errors".
load() {
  local url=$1 connections=$2; shift 2
  wrk -t2 -c"$connections" -d"${DURATION}s" --latency "$@" "$url" | wrk_figures
}

# login_lua FILE: a wrk script logging in as login1..login$FEW (one thread) and
# login$((FEW+1))..login$((2*FEW)) (the other) in turn: attempts in flight count toward a
# name's throttle (5 at most), so one name never has more than one or two in flight.
login_lua() {
  cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local threads = 0
function setup(thread) thread:set("first", threads * $FEW); threads = threads + 1 end
local i = 0
function request()
  i = i % $FEW + 1
  return wrk.format(nil, nil, nil, string.format('{"user":"login%d","password":"$ADMIN_PASSWORD"}', first + i))
end
LUA
}

# pages_lua FIRST LAST: a wrk script going round those pages of the user list, by id and
# by name, ascending and descending.
pages_lua() {
  cat <<LUA
local paths = {}
for _, key in ipairs({"id", "user_name"}) do
  for _, order in ipairs({"asc", "desc"}) do
    for page = $1, $2 do
      paths[#paths + 1] = string.format("/v1/admin/user?orderBy=%s&order=%s&page=%d&pageSize=10", key, order, page)
    end
  end
end
local i = 0
request = function() i = i % #paths + 1; return wrk.format(nil, paths[i]) end
LUA
}

# cpu_ms PID...: CPU time (user + system) the processes have used so far, in ms; a
# profile by process: where the time of a load run went.
cpu_ms() {
  local ticks=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo $((ticks * 1000 / $(getconf CLK_TCK)))
}

# logins_vs_argon2 URL: registers login1..login$((2*FEW)), logs them in with wrk ($FEW
# connections) into $WORK/login.lua's pattern, then runs the raw Argon2 reference; prints
# "logins/s p50 p99 errors raw_verifications/s".
logins_vs_argon2() {
  local url=$1 i
  for i in $(seq 1 $((2 * FEW))); do register "$url" "login$i" "+861380000$(printf %04d "$i")"; done
  login_lua "$WORK/login.lua"
  local figures
  figures=$(load "$url/v1/authorization" "$FEW" -s "$WORK/login.lua")
  echo "$figures $(target/release/argon2-verify "$DURATION")"
}

# reads_during_login_flood URL AUTH_HEADER: authenticated reads ($FEW connections) alone,
# then while $FEW more connections log in (after logins_vs_argon2); prints "alone: req/s
# p50 p99 errors, flooded: req/s p50 p99 errors, logins/s errors".
reads_during_login_flood() {
  local url=$1 auth=$2 alone flooded flood_pid
  alone=$(load "$url/v1/authorization" "$FEW" -H "$auth")
  wrk -t1 -c"$FEW" -d"$((DURATION + 2))s" -s "$WORK/login.lua" "$url/v1/authorization" >"$WORK/flood.txt" &
  flood_pid=$!
  sleep 1
  flooded=$(load "$url/v1/authorization" "$FEW" -H "$auth")
  wait "$flood_pid"
  echo "$alone $flooded $(wrk_figures <"$WORK/flood.txt" | awk '{print $1, $4}')"
}
