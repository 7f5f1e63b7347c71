#!/usr/bin/env bash
# Native AOT check: publishes the demo with PublishAot (Debian's clang and zlib1g-dev), runs the native binary on a
# free loopback port, and checks that it serves the JSON, a promtool-clean /metrics and the dashboard. Prints the
# binary's size and its resident memory after those requests (the figures the README quotes). Then does the same
# for the Windows service sample, built on StatsHandler.Hosting, so the hosting package is proven AOT-clean too:
# /api/stats and /healthz from the native worker, and a clean stop on SIGTERM.
# Prints each check; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "aot-smoke: FAILED: $*" >&2; exit 1; }
step() { echo "aot-smoke: $*"; }

for tool in clang curl jq promtool; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (.ci/run installs clang, zlib1g-dev, curl, jq and prometheus)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/statshandler-aot.XXXXXX")
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

rid=linux-x64
[ "$(uname -m)" = "aarch64" ] && rid=linux-arm64

# publish PROJECT NAME: a native binary in $work/NAME, failing on any warning (trim and AOT analysis warnings,
# IL2xxx and IL3xxx, would make the binary's behaviour differ from the JIT build's). Prints its size.
publish() {
  step "dotnet publish $1 -c Release -r $rid -p:PublishAot=true"
  if ! timeout 900 dotnet publish "$1" -c Release -r "$rid" -p:PublishAot=true -o "$work/$2" -nologo >"$work/$2.log" 2>&1; then
    cat "$work/$2.log"; fail "the AOT publish of $1 failed"
  fi
  if grep -E "warning (IL|CS|CA)[0-9]+" "$work/$2.log"; then fail "the AOT publish of $1 printed warnings"; fi
  [ -x "$work/$2/$2" ] || fail "$work/$2/$2 was not written"
  local size
  size=$(stat -c %s "$work/$2/$2")
  step "ok: native $2, $size bytes ($(awk "BEGIN {printf \"%.1f\", $size / 1048576}") MiB), no warning"
}

# wait_for_url LOG SED_PATTERN: sets $url from the first line of LOG the pattern matches, while $pid runs.
wait_for_url() {
  url=
  for _ in $(seq 1 60); do
    url=$(sed -n "$2" "$1" | head -1)
    [ -n "$url" ] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$1"; fail "the native binary exited before serving"; }
    sleep 0.5
  done
  cat "$1"; fail "the native binary did not print its URL within 30 s"
}

# stop LOG: SIGTERM to $pid, which must exit 0 within 30 s.
stop() {
  kill -TERM "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then fail "the native binary did not stop within 30 s of SIGTERM"; fi
  local code=0
  wait "$pid" || code=$?
  pid=
  [ "$code" -eq 0 ] || { cat "$1"; fail "the native binary exited with $code after SIGTERM"; }
  step "ok: SIGTERM stopped it, exit code 0"
}

rss() { awk '/^VmRSS:/ {printf "%s kB (%.1f MiB)", $2, $2 / 1024}' "/proc/$pid/status"; }

publish StatsHandler.Demo StatsHandler.Demo
binary="$work/StatsHandler.Demo/StatsHandler.Demo"
log="$work/demo.log"
"$binary" --addr 127.0.0.1:0 >"$log" 2>&1 &
pid=$!
wait_for_url "$log" 's/^Serving runtime stats on \(http:[^ ]*\)$/\1/p'
step "ok: the native demo serves on $url"

json=$(curl -sS --fail --max-time 30 "${url}api/stats") || fail "GET ${url}api/stats"
keys=$(echo "$json" | jq 'keys | length') || fail "/api/stats is not JSON: $json"
[ "$(echo "$json" | jq '.pid')" = "$pid" ] || fail "/api/stats reports pid $(echo "$json" | jq '.pid'), not $pid"
[ "$keys" -ge 50 ] || fail "/api/stats has only $keys keys"
echo "$json" | jq -e '.meters | length > 0' >/dev/null || fail "/api/stats has no meters: the Meter bridge does not work under AOT"
step "ok: /api/stats is JSON with $keys keys, this process's pid and the demo's meters"

curl -sS --fail --max-time 30 "${url}metrics" >"$work/metrics.txt" || fail "GET ${url}metrics"
promtool check metrics <"$work/metrics.txt" || fail "promtool check metrics reports problems in /metrics"
grep -q '^process_cpu_seconds_total ' "$work/metrics.txt" || fail "/metrics has no process_cpu_seconds_total"
step "ok: /metrics ($(grep -vc '^#' "$work/metrics.txt") samples) passes promtool check metrics"

dashboard=$(curl -sS --fail --max-time 30 -i "${url}debug/dashboard") || fail "GET ${url}debug/dashboard"
echo "$dashboard" | grep -qi '^content-type: text/html' || fail "/debug/dashboard is not HTML"
echo "$dashboard" | grep -qi '^content-security-policy:' || fail "/debug/dashboard has no Content-Security-Policy"
echo "$dashboard" | grep -q '</html>' || fail "/debug/dashboard is not a whole page"
step "ok: /debug/dashboard is the embedded page, with its Content-Security-Policy"

step "resident memory after these requests: $(rss)"
stop "$log"

publish samples/StatsHandler.WindowsService StatsHandler.WindowsService
log="$work/service.log"
StatsServer__Address=127.0.0.1:0 "$work/StatsHandler.WindowsService/StatsHandler.WindowsService" >"$log" 2>&1 &
pid=$!
wait_for_url "$log" 's/.*Serving runtime stats on \(http:[^ ]*\) .*/\1/p'
step "ok: the native service sample serves on $url"
json=$(curl -sS --fail --max-time 30 "${url}api/stats") || fail "GET ${url}api/stats"
[ "$(echo "$json" | jq '.pid')" = "$pid" ] || fail "/api/stats of the service sample does not report pid $pid"
health=$(curl -sS --fail --max-time 30 "${url}healthz") || fail "GET ${url}healthz"
echo "$health"
[ "$(echo "$health" | jq -r '.checks.self.status')" = "Healthy" ] || fail "/healthz of the service sample does not report its check"
step "ok: AddStatsServer, its configuration and health checks work under Native AOT; resident memory $(rss)"
stop "$log"
step "PASSED"
