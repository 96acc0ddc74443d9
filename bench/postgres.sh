#!/usr/bin/env bash
# The PostgreSQL benchmark (./x bench --postgres): the rows of bench/run.sh that mean
# something on PostgreSQL, measured against the private cluster ./x starts for it
# (BENCH_POSTGRES_URL; fsync on, as deployed), each next to its reference in the same run,
# plus two replicas on one database and how soon one refuses what the other ended. Prints
# one table, also written to docs/BENCHMARKS-postgres.md. BENCH_SECONDS as in run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BENCH_POSTGRES_URL:?run it as ./x bench --postgres, which starts a private PostgreSQL cluster}"

DURATION=${BENCH_SECONDS:-10}
CONNECTIONS=64
FEW=8
ADMIN_PASSWORD=Bench1admin
WORK=$(mktemp -d)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# shellcheck source=bench/lib.sh
source bench/lib.sh

# ./x bench --postgres built the portal (its release build) before calling this.
say "building the reference (bare axum) in release"
cargo build --release -p baseline -q

say "two replicas on one fresh PostgreSQL database, and the bare axum baseline"
start "$WORK/a.log" portal bench "$UNLIMITED"
A=$URL A_PID=$PID
start "$WORK/b.log" portal bench "$UNLIMITED"
B=$URL
start "$WORK/baseline.log" target/release/baseline 127.0.0.1:0
BASELINE=$URL
sleep 1
IDLE_KB=$(rss_kb "$A_PID")
TOKEN=$(login "$A")
AUTH=(-H "Authorization: $TOKEN")

# Where a read's time goes: CPU used by the replica and by all PostgreSQL processes during
# a load run, per request (microseconds).
postgres_pids() { pgrep -x postgres || true; }
# profiled PORTAL_PID RPS COMMAND...: runs COMMAND; sets PROFILE to "portal_us postgres_us".
profiled() {
  local pid=$1; shift
  local portal0 pg0
  portal0=$(cpu_ms "$pid"); pg0=$(cpu_ms $(postgres_pids))
  "$@" >"$WORK/profiled.txt"
  local portal1 pg1 requests
  portal1=$(cpu_ms "$pid"); pg1=$(cpu_ms $(postgres_pids))
  requests=$(awk '{print $1 * '"$DURATION"'}' "$WORK/profiled.txt")
  PROFILE=$(calc "f'{($portal1 - $portal0) * 1000 / $requests:.0f} {($pg1 - $pg0) * 1000 / $requests:.0f}'")
}

say "authenticated GET /v1/authorization on one replica vs the baseline: $CONNECTIONS connections, $DURATION s each"
profiled "$A_PID" load "$A/v1/authorization" "$CONNECTIONS" "${AUTH[@]}"
read -r P_RPS P_P50 P_P99 P_ERR <"$WORK/profiled.txt"
read -r P_CPU P_PG_CPU <<<"$PROFILE"
read -r BL_RPS BL_P50 BL_P99 BL_ERR < <(load "$BASELINE/" "$CONNECTIONS")
READ_RATIO=$(calc "f'{$P_RPS / $BL_RPS:.2f}'")

say "the same read on a third replica that keeps no caller (OTE_CALLER_CACHE_MILLIS=0: every request reads the database, as before issue 15)"
start "$WORK/nocache.log" portal bench "$UNLIMITED" OTE_CALLER_CACHE_MILLIS=0
NOCACHE=$URL NOCACHE_PID=$PID
profiled "$NOCACHE_PID" load "$NOCACHE/v1/authorization" "$CONNECTIONS" "${AUTH[@]}"
read -r N_RPS N_P50 N_P99 N_ERR <"$WORK/profiled.txt"
read -r N_CPU N_PG_CPU <<<"$PROFILE"
kill "$NOCACHE_PID"; wait "$NOCACHE_PID" 2>/dev/null || true

say "the same read with a personal access token"
PAT=$(curl -sf "$A/v1/user/tokens" "${AUTH[@]}" -d '{"name":"bench","expiresInDays":1,"scope":"read"}' |
  python3 -c 'import sys, json; print(json.load(sys.stdin)["data"]["token"])')
read -r T_RPS T_P50 T_P99 T_ERR < <(load "$A/v1/authorization" "$CONNECTIONS" -H "Authorization: $PAT")
PAT_RATIO=$(calc "f'{$T_RPS / $P_RPS:.2f}'")

say "both replicas read at once, $((CONNECTIONS / 2)) connections each (wrk on each, summed)"
load "$A/v1/authorization" $((CONNECTIONS / 2)) "${AUTH[@]}" >"$WORK/two-a.txt" &
TWO_A=$!
read -r TB_RPS _ TB_P99 TB_ERR < <(load "$B/v1/authorization" $((CONNECTIONS / 2)) "${AUTH[@]}")
wait "$TWO_A"
read -r TA_RPS _ TA_P99 TA_ERR <"$WORK/two-a.txt"
TWO_RPS=$((TA_RPS + TB_RPS))
TWO_RATIO=$(calc "f'{$TWO_RPS / $P_RPS:.2f}'")

say "revocation across replicas: log out on one, read on the other until 401 (bench/revocation.py, 200 rounds)"
read -r R_P50 R_P99 R_MAX R_N R_ERR < <(python3 bench/revocation.py "$A" "$B" "$ADMIN_PASSWORD" 200)

say "webhooks: commit-to-delivery delay when idle, and events/s (bench/webhooks.py)"
read -r W_P50 W_P99 W_RATE W_N W_ERR < <(python3 bench/webhooks.py "$A" "$ADMIN_PASSWORD")

say "logins/s ($FEW connections) vs raw Argon2 verifications/s on all $(nproc) cores"
# Attempts in flight count toward a name's throttle (5 at most): each wrk thread logs in
# as $FEW users of its own in turn, so one name never has more than one or two in flight.
read -r L_RPS L_P50 L_P99 L_ERR RAW_RPS < <(logins_vs_argon2 "$A")
LOGIN_RATIO=$(calc "f'{$L_RPS / $RAW_RPS:.2f}'")

say "authenticated reads ($FEW connections) alone, then while $FEW connections flood logins"
read -r Q_RPS Q_P50 Q_P99 Q_ERR F_RPS F_P50 F_P99 F_ERR FL_RPS FL_ERR \
  < <(reads_during_login_flood "$A" "Authorization: $TOKEN")

say "seeding 1,000,000 users (bench/seed-users-postgres.sql, psql) while the replicas run"
SEED_START=$(date +%s.%N)
psql -q "$(database_url bench)" -v ON_ERROR_STOP=1 -f bench/seed-users-postgres.sql >/dev/null
SEED_SECONDS=$(calc "f'{$(date +%s.%N) - $SEED_START:.1f}'")

say "GET /v1/admin/user on all users: pages 1-100 by id and by name, both orders ($FEW connections)"
TOTAL=$(curl -sf "${AUTH[@]}" "$A/v1/admin/user" | python3 -c 'import sys, json; print(json.load(sys.stdin)["total"])')
USERS=$(calc "f'{$TOTAL:,}'")
LAST_PAGE=$(((TOTAL + 9) / 10))
pages_lua 1 100 >"$WORK/pages.lua"
pages_lua "$LAST_PAGE" "$LAST_PAGE" >"$WORK/last.lua"
read -r U_RPS U_P50 U_P99 U_ERR < <(load "$A" "$FEW" "${AUTH[@]}" -s "$WORK/pages.lua")
read -r Z_RPS Z_P50 Z_P99 Z_ERR < <(load "$A" "$FEW" "${AUTH[@]}" -s "$WORK/last.lua")

ERRORS=$((P_ERR + BL_ERR + N_ERR + T_ERR + TA_ERR + TB_ERR + R_ERR + W_ERR + L_ERR + Q_ERR + F_ERR + FL_ERR + U_ERR + Z_ERR))
TABLE=$(cat <<TABLE
| figure | measured | reference in the same run | goal | met |
|---|---|---|---|---|
| authenticated \`GET /v1/authorization\` on one replica, $CONNECTIONS connections | $P_RPS req/s, p50 $P_P50 ms, p99 $P_P99 ms; CPU per request: replica $P_CPU µs, PostgreSQL $P_PG_CPU µs | bare axum: $BL_RPS req/s, p50 $BL_P50 ms, p99 $BL_P99 ms | ratio >= 0.6 | ratio $READ_RATIO: $(yes_no "$READ_RATIO >= 0.6") |
| the same without the caller cache (\`OTE_CALLER_CACHE_MILLIS=0\`: the database read on every request, as before issue 15) | $N_RPS req/s, p50 $N_P50 ms, p99 $N_P99 ms; CPU per request: replica $N_CPU µs, PostgreSQL $N_PG_CPU µs | - | - | - |
| the same with a personal access token | $T_RPS req/s, p50 $T_P50 ms, p99 $T_P99 ms | with a JWT: $P_RPS req/s | ratio >= 0.8 | ratio $PAT_RATIO: $(yes_no "$PAT_RATIO >= 0.8") |
| two replicas on one database, $((CONNECTIONS / 2)) connections each at once (wrk on each, summed) | $TWO_RPS req/s ($TA_RPS + $TB_RPS; p99 $TA_P99 and $TB_P99 ms) | one replica, $CONNECTIONS connections: $P_RPS req/s | - (one machine of $(nproc) cores runs both, PostgreSQL and wrk) | ratio $TWO_RATIO |
| a logout on one replica refused on the other (200 rounds; callers kept up to 1 s) | p50 $R_P50 ms, p99 $R_P99 ms, max $R_MAX ms ($R_N rounds) | - | under the cache's 1 s | $(yes_no "$R_MAX < 1000") |
| logins/s ($FEW connections, $((2 * FEW)) users in turn) | $L_RPS logins/s, p50 $L_P50 ms, p99 $L_P99 ms | raw Argon2 on $(nproc) threads: $RAW_RPS verifications/s | ratio >= 0.9 | ratio $LOGIN_RATIO: $(yes_no "$LOGIN_RATIO >= 0.9") |
| p99 of authenticated reads ($FEW connections) while $FEW connections flood logins | p99 $F_P99 ms (p50 $F_P50 ms, $F_RPS req/s; $FL_RPS logins/s meanwhile) | without the flood: p99 $Q_P99 ms (p50 $Q_P50 ms, $Q_RPS req/s) | < 10 ms | $(yes_no "$F_P99 < 10") |
| \`GET /v1/admin/user\`, $USERS users, pages 1-100 by id and by name, asc and desc, with \`total\` ($FEW connections) | p99 $U_P99 ms, p50 $U_P50 ms, $U_RPS req/s | - | p99 < 10 ms | $(yes_no "$U_P99 < 10") |
| the same, last page ($LAST_PAGE) | p99 $Z_P99 ms, p50 $Z_P50 ms, $Z_RPS req/s | - | - | - |
| webhook events: commit-to-delivery delay when idle, and events/s for a burst of $W_N changes (8 clients) | p50 $W_P50 ms, p99 $W_P99 ms; $W_RATE events/s | - | p99 < 100 ms | $(yes_no "$W_P99 < 100") |
| server memory, idle (VmRSS after start) | $(mb "$IDLE_KB") | - | < 30 MB | $(yes_no "$IDLE_KB < 30 * 1024") |
TABLE
)
echo "$TABLE"
if [ "$ERRORS" -ne 0 ]; then
  say "$ERRORS requests failed: the figures above do not count (by row: read $P_ERR, baseline $BL_ERR, \
no cache $N_ERR, token $T_ERR, two replicas $TA_ERR + $TB_ERR, revocation $R_ERR, webhooks $W_ERR, logins $L_ERR, \
reads $Q_ERR, reads in the flood $F_ERR, the flood $FL_ERR, list $U_ERR, last page $Z_ERR)"
  exit 1
fi
{
  echo "# Benchmarks on PostgreSQL"
  echo
  echo "Made by \`./x bench --postgres\` on $(date -u +%Y-%m-%d) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo) GiB;"
  echo "PostgreSQL $(psql -tAc 'SHOW server_version' "$BENCH_POSTGRES_URL") on the same machine (a private cluster, default settings, fsync on), $DURATION s per load run, wrk with 2 threads."
  echo "Seeding the million users took $SEED_SECONDS s; the whole command, build included, $((SECONDS / 60)) min $((SECONDS % 60)) s."
  echo "Every request of the load runs answered 2xx. The SQLite table: [BENCHMARKS.md](BENCHMARKS.md)."
  echo
  echo "$TABLE"
  echo
  echo "How each figure is made, and what the profiles showed: [bench/README.md](../bench/README.md)."
} >docs/BENCHMARKS-postgres.md
say "written to docs/BENCHMARKS-postgres.md"
