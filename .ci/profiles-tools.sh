#!/usr/bin/env bash
# Reads the demo's profiles with the tools people have, on loopback, in about a minute:
#   go tool pprof -top on /debug/pprof/profile?seconds=5 of `demo --busy`: Busy.Spin among the top five by flat time;
#   go tool pprof -top on /debug/pprof/heap: a readable inuse_space profile naming System.String;
#   dotnet-stack report -p PID beside /debug/pprof/threads: both show the blocked thread inside Blocked.Wait.
# Prints what the tools printed; exits non-zero on any failed check. Needs go (Debian's golang-go), curl, and
# dotnet-stack on PATH or in ~/.dotnet/tools.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:$HOME/.dotnet/tools"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

dotnet build StatsHandler.Demo -c Release -v q -nologo >/dev/null || { echo "FAILED: demo build"; exit 1; }
dotnet StatsHandler.Demo/bin/Release/net10.0/StatsHandler.Demo.dll --addr 127.0.0.1:0 --busy >"$work/demo.log" 2>&1 &
demo_pid=$!
pids+=($demo_pid)
for _ in $(seq 1 100); do
  demo=$(grep -o 'http://127.0.0.1:[0-9]*/' "$work/demo.log" | head -1)
  [ -n "$demo" ] && break
  sleep 0.2
done
[ -n "${demo:-}" ] || { echo "FAILED: the demo did not start"; cat "$work/demo.log"; exit 1; }
echo "demo on $demo (pid $demo_pid)"
failed=0

# go tool pprof keeps its downloads in $HOME/pprof; give it a folder of its own.
export PPROF_TMPDIR="$work/pprof" GOCACHE="$work/gocache"
top=$(timeout 120 go tool pprof -top -nodecount=12 "${demo}debug/pprof/profile?seconds=5" 2>&1)
echo "$top" | sed 's/^/  cpu | /'
if ! echo "$top" | grep -E '^ +[0-9.]+(ms|s) ' | head -5 | grep -q 'Busy.Spin'; then
  echo "FAILED: Busy.Spin is not among the top five by flat time"; failed=1
fi

heap=$(timeout 120 go tool pprof -top -nodecount=8 -sample_index=inuse_space "${demo}debug/pprof/heap" 2>&1)
echo "$heap" | sed 's/^/  heap | /'
echo "$heap" | grep -q 'System.String' || { echo "FAILED: the heap profile does not name System.String"; failed=1; }

if command -v dotnet-stack >/dev/null 2>&1; then
  ours=$(curl -s --max-time 60 "${demo}debug/pprof/threads")
  theirs=$(timeout 60 dotnet-stack report -p "$demo_pid" 2>&1)
  echo "$theirs" | grep -B3 -A4 'Blocked.Wait' | sed 's/^/  dotnet-stack | /'
  echo "$ours" | grep -B3 -A4 'Blocked.Wait' | sed 's/^/  threads | /'
  echo "$theirs" | grep -q 'Blocked.Wait' || { echo "FAILED: dotnet-stack does not show Blocked.Wait"; failed=1; }
  echo "$ours" | grep -q 'Blocked.Wait' || { echo "FAILED: /debug/pprof/threads does not show Blocked.Wait"; failed=1; }
else
  echo "FAILED: dotnet-stack not installed"; failed=1
fi

[ $failed -eq 0 ] && echo "passed: go tool pprof and dotnet-stack read the demo's profiles" || echo "FAILED: go tool pprof and dotnet-stack read the demo's profiles"
exit $failed
