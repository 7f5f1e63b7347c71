#!/usr/bin/env bash
# Native AOT check: publishes the demo with PublishAot (Debian's clang and zlib1g-dev), runs the native binary on a
# free loopback port, and checks that it serves the JSON, a promtool-clean /metrics and the dashboard. Prints the
# binary's size and its resident memory after those requests (the figures the README quotes).
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
step "dotnet publish StatsHandler.Demo -c Release -r $rid -p:PublishAot=true"
if ! timeout 900 dotnet publish StatsHandler.Demo -c Release -r "$rid" -p:PublishAot=true -o "$work/out" -nologo >"$work/publish.log" 2>&1; then
  cat "$work/publish.log"; fail "the AOT publish failed"
fi
# Trim and AOT analysis warnings (IL2xxx, IL3xxx) would make the binary's behaviour differ from the JIT build's.
if grep -E "warning (IL|CS|CA)[0-9]+" "$work/publish.log"; then fail "the AOT publish printed warnings"; fi
binary="$work/out/StatsHandler.Demo"
[ -x "$binary" ] || fail "$binary was not written"
size=$(stat -c %s "$binary")
step "ok: native binary, $size bytes ($(awk "BEGIN {printf \"%.1f\", $size / 1048576}") MiB), no warning"

log="$work/demo.log"
"$binary" --addr 127.0.0.1:0 >"$log" 2>&1 &
pid=$!
url=
for _ in $(seq 1 60); do
  url=$(sed -n 's/^Serving runtime stats on \(http:[^ ]*\)$/\1/p' "$log" | head -1)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; fail "the native demo exited before serving"; }
  sleep 0.5
done
[ -n "$url" ] || { cat "$log"; fail "the native demo did not print its URL within 30 s"; }
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

rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
step "resident memory after these requests: $rss_kb kB ($(awk "BEGIN {printf \"%.1f\", $rss_kb / 1024}") MiB)"

kill -TERM "$pid"
for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$pid" 2>/dev/null; then fail "the native demo did not stop within 30 s of SIGTERM"; fi
code=0
wait "$pid" || code=$?
pid=
[ "$code" -eq 0 ] || { cat "$log"; fail "the native demo exited with $code after SIGTERM"; }
step "ok: SIGTERM stopped it, exit code 0"
step "PASSED"
