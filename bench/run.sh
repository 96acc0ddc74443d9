#!/usr/bin/env bash
# The benchmark program (./x bench): builds in release, starts the portal on a fresh
# database, measures each figure next to its reference in the same run, and prints one
# table, also written to docs/BENCHMARKS.md. Load comes from wrk (Debian's package).
# Work in progress: see docs/BENCHMARKS.md for which figures are measured yet.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${BENCH_SECONDS:-10}
CONNECTIONS=64
WORK=$(mktemp -d)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

# Starts a program whose log says "listening on http://...", and waits for it.
# Sets URL and PID.
start() {
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 1 150); do
    URL=$(grep -o 'listening on http://[0-9.:]*' "$log" | head -n 1 | sed 's/listening on //') || true
    [ -n "$URL" ] && return
    sleep 0.1
  done
  cat "$log" >&2; exit 1
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# wrk's summary as "req/s p50 p99" (latencies in ms).
wrk_figures() {
  awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    END { printf "%.0f %.2f %.2f\n", rps, p50, p99 }'
}

say "building the portal and the baseline in release"
cargo leptos build --release >/dev/null 2>&1 || cargo leptos build --release
cargo build --release -p baseline -q

say "starting the portal on a fresh SQLite database and the bare axum baseline"
start "$WORK/portal.log" env LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_ADDR=127.0.0.1:0 \
  DATABASE_URL="sqlite://$WORK/ote.db" OTE_ADMIN_PASSWORD=Bench1admin RUST_LOG=warn,server=info \
  target/release/ote-portal
PORTAL=$URL PORTAL_PID=$PID
start "$WORK/baseline.log" target/release/baseline 127.0.0.1:0
BASELINE=$URL
sleep 0.5
IDLE_KB=$(rss_kb "$PORTAL_PID")

TOKEN=$(curl -s "$PORTAL/v1/authorization" -d '{"user":"admin","password":"Bench1admin"}' |
  python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')

say "authenticated GET /v1/authorization vs the baseline: ${CONNECTIONS} connections, ${DURATION} s each"
read -r P_RPS P_P50 P_P99 < <(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: $TOKEN" \
  "$PORTAL/v1/authorization" | wrk_figures)
read -r B_RPS B_P50 B_P99 < <(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$BASELINE/" | wrk_figures)
RATIO=$(python3 -c "print(f'{$P_RPS / $B_RPS:.2f}')")

say "hydrate bundle sizes"
WASM=target/site/pkg/ote-portal.wasm
JS=target/site/pkg/ote-portal.js
raw=$(($(stat -c %s "$WASM") + $(stat -c %s "$JS")))
gz=$(($(gzip -9 -c "$WASM" | wc -c) + $(gzip -9 -c "$JS" | wc -c)))
br=$(($(brotli -q 11 -c "$WASM" | wc -c) + $(brotli -q 11 -c "$JS" | wc -c)))

kb() { python3 -c "print(f'{$1 / 1024:.0f} KB')"; }
TABLE=$(cat <<TABLE
| figure | measured | reference in the same run | goal | met |
|---|---|---|---|---|
| authenticated \`GET /v1/authorization\`, ${CONNECTIONS} connections | ${P_RPS} req/s, p50 ${P_P50} ms, p99 ${P_P99} ms | bare axum: ${B_RPS} req/s, p50 ${B_P50} ms, p99 ${B_P99} ms | ratio >= 0.5 | ratio ${RATIO}: $(python3 -c "print('yes' if $RATIO >= 0.5 else 'no')") |
| hydrate bundle (wasm + js) | raw $(kb $raw), gzip $(kb $gz), brotli $(kb $br) | - | <= 250 KB brotli | $(python3 -c "print('yes' if $br <= 250*1024 else 'no')") |
| server memory, idle (VmRSS after start on a fresh database) | $(python3 -c "print(f'{$IDLE_KB / 1024:.1f} MB')") | - | < 30 MB | $(python3 -c "print('yes' if $IDLE_KB < 30*1024 else 'no')") |
TABLE
)
echo "$TABLE"
{
  echo "# Benchmarks"
  echo
  echo "Made by \`./x bench\` on $(date -u +%Y-%m-%d) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem/ {print $2}') GiB."
  echo
  echo "$TABLE"
  echo
  echo "Not measured yet (issue 6 is in progress): logins/s against raw Argon2 verifications/s,"
  echo "p99 of reads during a login flood, the 1,000,000-user list, memory with 1,000"
  echo "keep-alive connections, start-up on a 1M-user database. Misses above are not yet"
  echo "profiled; see the issue's note for the leads."
} >docs/BENCHMARKS.md
say "written to docs/BENCHMARKS.md"
