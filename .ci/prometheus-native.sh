#!/usr/bin/env bash
# Verifies native histograms and exemplars against a real Prometheus (Debian's 2.42), on loopback, in about 90 s:
#   A: --enable-feature=native-histograms,exemplar-storage scrapes the demo in protobuf; the native p90 of the demo's
#      buffer sizes (uniform 1,000..200,000 bytes, true p90 180,100) must be within 5%.
#   B: --enable-feature=exemplar-storage without native histograms scrapes OpenMetrics: the classic _bucket series
#      must be there, and /api/v1/query_exemplars must return trace ids.
# Prints the queries and answers; exits non-zero on any failed check. Needs prometheus, curl, jq, python3.
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_SCRAPE="${SECONDS_TO_SCRAPE:-65}"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

dotnet build StatsHandler.Demo -c Release -v q -nologo >/dev/null || { echo "FAILED: demo build"; exit 1; }
dotnet StatsHandler.Demo/bin/Release/net10.0/StatsHandler.Demo.dll --addr 127.0.0.1:0 >"$work/demo.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  demo=$(grep -o 'http://127.0.0.1:[0-9]*/' "$work/demo.log" | head -1)
  [ -n "$demo" ] && break
  sleep 0.2
done
[ -n "${demo:-}" ] || { echo "FAILED: the demo did not start"; cat "$work/demo.log"; exit 1; }
target=${demo#http://}; target=${target%/}
echo "demo on $demo"

start_prometheus() { # name features; sets $port (no command substitution: the server's pid must reach the trap)
  local name=$1 features=$2
  port=$(free_port)
  mkdir -p "$work/$name"
  cat >"$work/$name/prometheus.yml" <<YML
global:
  scrape_interval: 2s
  evaluation_interval: 2s
scrape_configs:
  - job_name: demo
    static_configs:
      - targets: ['$target']
YML
  prometheus --config.file="$work/$name/prometheus.yml" --storage.tsdb.path="$work/$name/data" \
    --web.listen-address="127.0.0.1:$port" --enable-feature="$features" >"$work/$name/log" 2>&1 &
  pids+=($!)
}
start_prometheus native native-histograms,exemplar-storage
port_a=$port
start_prometheus classic exemplar-storage
port_b=$port
echo "prometheus A (native-histograms,exemplar-storage) on 127.0.0.1:$port_a, B (exemplar-storage) on 127.0.0.1:$port_b; scraping for ${SECONDS_TO_SCRAPE}s"
sleep "$SECONDS_TO_SCRAPE"

failed=0
query() { # port promql
  curl -s --max-time 10 "http://127.0.0.1:$1/api/v1/query" --data-urlencode "query=$2"
}

q='histogram_quantile(0.9, rate(demo_buffer_size_bytes[1m]))'
answer=$(query "$port_a" "$q")
p90=$(echo "$answer" | jq -r '.data.result[0].value[1] // empty')
echo "A: $q = ${p90:-none} (true p90 of uniform 1,000..200,000: 180100)"
if [ -z "$p90" ] || ! python3 -c "import sys; v=float('$p90'); sys.exit(0 if abs(v-180100)/180100 <= 0.05 else 1)"; then
  echo "FAILED: native p90 not within 5%: $answer"; failed=1
fi
for q50 in 'histogram_quantile(0.5, rate(demo_buffer_size_bytes[1m]))' 'histogram_count(rate(demo_buffer_size_bytes[1m]))'; do
  echo "A: $q50 = $(query "$port_a" "$q50" | jq -r '.data.result[0].value[1] // "none"')"
done
q='histogram_quantile(0.9, rate(dotnet_gc_pause_seconds[1m]))'
echo "A: $q = $(query "$port_a" "$q" | jq -r '.data.result[0].value[1] // "none"')"

q='count(demo_buffer_size_bytes_bucket)'
buckets=$(query "$port_b" "$q" | jq -r '.data.result[0].value[1] // empty')
echo "B: $q = ${buckets:-none}"
[ "${buckets:-0}" -ge 6 ] 2>/dev/null || { echo "FAILED: no classic _bucket series from the text scrape"; failed=1; }
q='histogram_quantile(0.9, rate(demo_buffer_size_bytes_bucket[1m]))'
echo "B: $q = $(query "$port_b" "$q" | jq -r '.data.result[0].value[1] // "none"') (classic buckets: 1000,10000,50000,100000,200000)"

if [ "${CHECK_EXEMPLARS:-1}" = 1 ]; then
  now=$(date +%s)
  exemplars=$(curl -s --max-time 10 "http://127.0.0.1:$port_b/api/v1/query_exemplars" \
    --data-urlencode 'query=demo_buffer_size_bytes_bucket' --data-urlencode "start=$((now - 120))" --data-urlencode "end=$now")
  traces=$(echo "$exemplars" | jq -r '[.data[].exemplars[].labels.trace_id] | unique | length')
  echo "B: query_exemplars(demo_buffer_size_bytes_bucket) = $traces distinct trace ids, e.g. $(echo "$exemplars" | jq -c '.data[0].exemplars[0] // "none"')"
  [ "${traces:-0}" -ge 1 ] 2>/dev/null || { echo "FAILED: no exemplar with a trace id: $exemplars"; failed=1; }
fi

up=$(query "$port_a" 'up' | jq -r '.data.result[0].value[1] // empty')
[ "$up" = 1 ] || { echo "FAILED: A's target is not up"; tail -5 "$work/native/log"; failed=1; }
[ $failed -eq 0 ] && echo "passed: Prometheus native histograms and exemplars" || echo "FAILED: Prometheus native histograms and exemplars"
exit $failed
