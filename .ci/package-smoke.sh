#!/usr/bin/env bash
# Package consumer check: ./build.sh pack (both packages), then throwaway projects outside the repository restore
# them from ./artifacts (next to nuget.org for the SDK's own packages):
#  1. a console project with StatsHandler alone starts a server on 127.0.0.1:0, GETs /api/stats and prints the
#     status and a key; the package must bring no transitive dependency;
#  2. a fresh `dotnet new worker` project with StatsHandler and StatsHandler.Hosting serves /api/stats, /metrics
#     and /healthz (one check failing: 503) through AddStatsServer, and stops cleanly on SIGTERM; the hosting
#     package must bring only Microsoft.Extensions and System packages besides StatsHandler.
# Prints each check; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

fail() { echo "package-smoke: FAILED: $*" >&2; exit 1; }
step() { echo "package-smoke: $*"; }

version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -1)
[ -n "$version" ] || fail "no <Version> in Directory.Build.props"

step "./build.sh pack (version $version from Directory.Build.props)"
STATSHANDLER_VERSION_SUFFIX= ./build.sh pack || fail "./build.sh pack"
for id in StatsHandler StatsHandler.Hosting; do
  [ -f "artifacts/$id.$version.nupkg" ] || fail "artifacts/$id.$version.nupkg was not written"
  [ -f "artifacts/$id.$version.snupkg" ] || fail "artifacts/$id.$version.snupkg was not written"
  step "ok: artifacts/$id.$version.nupkg ($(wc -c < "artifacts/$id.$version.nupkg") bytes) and .snupkg"
done
nupkg="artifacts/StatsHandler.$version.nupkg"
# Each package page shows the package's own README, written with absolute links only.
for id in StatsHandler StatsHandler.Hosting; do
  unzip -p "artifacts/$id.$version.nupkg" README.md | cmp -s - "docs/package/$id.md" || fail "artifacts/$id.$version.nupkg does not carry docs/package/$id.md as its README.md"
done
step "ok: each package carries its README from docs/package/"

work=$(mktemp -d "${TMPDIR:-/tmp}/statshandler-consumer.XXXXXX")
worker_pid=
cleanup() {
  [ -n "$worker_pid" ] && kill "$worker_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
# Its own packages folder, so a StatsHandler restored by an earlier run cannot stand in for this one.
cat > "$work/NuGet.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <config>
    <add key="globalPackagesFolder" value="$work/packages" />
  </config>
  <packageSources>
    <clear />
    <add key="artifacts" value="$root/artifacts" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
XML

step "dotnet new console in $work/consumer"
dotnet new console -o "$work/consumer" -n Consumer --no-restore >/dev/null || fail "dotnet new console"

step "dotnet add package StatsHandler --version $version (from $root/artifacts)"
dotnet add "$work/consumer/Consumer.csproj" package StatsHandler --version "$version" || fail "dotnet add package"
[ -f "$work/packages/statshandler/$version/statshandler.$version.nupkg" ] || fail "StatsHandler $version is not in the consumer's packages folder"
cmp -s "$work/packages/statshandler/$version/statshandler.$version.nupkg" "$nupkg" || fail "the restored package is not the one just packed"
step "ok: restored the package just packed (byte-identical)"

packages=$(dotnet list "$work/consumer/Consumer.csproj" package --include-transitive)
echo "$packages"
echo "$packages" | grep -Eq "^ *> StatsHandler +$version +$version" || fail "StatsHandler $version is not a resolved top-level package"
if echo "$packages" | grep -q "Transitive Package"; then fail "StatsHandler brought transitive packages"; fi
step "ok: one package, no transitive dependency"

cat > "$work/consumer/Program.cs" <<'CS'
using System.Text.Json;
using StatsHandler;

await using var server = new StatsServer("127.0.0.1:0").Handle("/api/stats");
await server.StartAsync();
using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
using HttpResponseMessage response = await client.GetAsync(new Uri(server.Url, "api/stats"));
string body = await response.Content.ReadAsStringAsync();
using JsonDocument json = JsonDocument.Parse(body);
int pid = json.RootElement.GetProperty("pid").GetInt32();
Console.WriteLine($"GET {new Uri(server.Url, "api/stats")} -> {(int)response.StatusCode} {response.Content.Headers.ContentType}");
Console.WriteLine($"dotnet_version={json.RootElement.GetProperty("dotnet_version").GetString()} pid={pid} (this process: {Environment.ProcessId}) keys={json.RootElement.EnumerateObject().Count()}");
Console.WriteLine($"StatsHandler assembly: {typeof(StatsServer).Assembly.Location}");
await server.StopAsync();
return (int)response.StatusCode == 200 && pid == Environment.ProcessId ? 0 : 1;
CS

step "dotnet run the consumer"
out=$(timeout 300 dotnet run --project "$work/consumer/Consumer.csproj" -c Release 2>&1) || { echo "$out"; fail "the consumer did not run or did not get 200"; }
echo "$out"
echo "$out" | grep -q -- "-> 200 application/json; charset=utf-8" || fail "no 200 JSON answer in the consumer's output"
echo "$out" | grep -q "StatsHandler assembly: $work/consumer/bin/" || fail "the consumer did not load StatsHandler from its own output"
step "ok: a console app built on the package served and read /api/stats"

step "dotnet new worker in $work/worker"
dotnet new worker -o "$work/worker" -n StatsWorker --no-restore >/dev/null || fail "dotnet new worker"
for id in StatsHandler StatsHandler.Hosting; do
  dotnet add "$work/worker/StatsWorker.csproj" package "$id" --version "$version" >/dev/null || fail "dotnet add package $id"
  lower=$(echo "$id" | tr '[:upper:]' '[:lower:]')
  cmp -s "$work/packages/$lower/$version/$lower.$version.nupkg" "artifacts/$id.$version.nupkg" || fail "the restored $id is not the one just packed"
done
step "ok: restored StatsHandler and StatsHandler.Hosting just packed (byte-identical)"
packages=$(dotnet list "$work/worker/StatsWorker.csproj" package --include-transitive)
echo "$packages"
others=$(echo "$packages" | sed -n 's/^ *> \([^ ]*\) .*/\1/p' | grep -Ev '^(StatsHandler|StatsHandler\.Hosting|Microsoft\.Extensions\..*|System\..*)$' || true)
[ -z "$others" ] || fail "the hosting package brought packages beyond Microsoft.Extensions and System: $others"
step "ok: nothing beyond StatsHandler, Microsoft.Extensions.* and System.*"

cat > "$work/worker/Program.cs" <<'CS'
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StatsWorker;

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddHostedService<Worker>();
builder.Services.AddHealthChecks()
    .AddCheck("self", () => HealthCheckResult.Healthy("running"))
    .AddCheck("database", () => HealthCheckResult.Unhealthy("connection refused"));
builder.Services.AddStatsServer(builder.Configuration.GetSection("StatsServer"), (services, server) => server
    .Handle("/api/stats")
    .HandlePrometheus("/metrics")
    .HandleHealthChecks("/healthz", services));

var host = builder.Build();
host.Run();
CS
echo "--- the worker's Program.cs:"; cat "$work/worker/Program.cs"; echo "---"

step "dotnet build the worker"
timeout 300 dotnet build "$work/worker/StatsWorker.csproj" -c Release -v q -nologo >"$work/worker-build.log" 2>&1 || { cat "$work/worker-build.log"; fail "the worker did not build"; }
step "run the worker with StatsServer__Address=127.0.0.1:0"
log="$work/worker.log"
StatsServer__Address=127.0.0.1:0 dotnet "$work/worker/bin/Release/net10.0/StatsWorker.dll" >"$log" 2>&1 &
worker_pid=$!
url=
for _ in $(seq 1 120); do
  url=$(sed -n 's/.*Serving runtime stats on \(http:[^ ]*\) .*/\1/p' "$log" | head -1)
  [ -n "$url" ] && break
  kill -0 "$worker_pid" 2>/dev/null || { cat "$log"; fail "the worker exited before serving"; }
  sleep 0.5
done
[ -n "$url" ] || { cat "$log"; fail "the worker did not log 'Serving runtime stats on' within 60 s"; }
step "ok: the worker serves on $url"

stats=$(curl -sS -i --max-time 30 "${url}api/stats?pp=1") || fail "curl ${url}api/stats"
echo "$stats" | head -16
echo "$stats" | head -1 | grep -q " 200" || fail "/api/stats did not answer 200"
echo "$stats" | grep -q "\"pid\": $worker_pid," || fail "/api/stats did not report the worker's pid $worker_pid"
metrics=$(curl -sS --max-time 30 "${url}metrics") || fail "curl ${url}metrics"
echo "$metrics" | grep -q "^# TYPE process_cpu_seconds_total counter" || fail "/metrics has no process_cpu_seconds_total"
health=$(curl -sS -i --max-time 30 "${url}healthz") || fail "curl ${url}healthz"
echo "$health"; echo
echo "$health" | head -1 | grep -q " 503" || fail "/healthz with a failing check did not answer 503"
echo "$health" | grep -q '"database":{"status":"Unhealthy"' || fail "/healthz does not report the failing check"
step "ok: /api/stats 200 with the worker's pid, /metrics, /healthz 503 naming the failing check"

kill -TERM "$worker_pid"
for _ in $(seq 1 60); do kill -0 "$worker_pid" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$worker_pid" 2>/dev/null; then cat "$log"; fail "the worker did not stop within 30 s of SIGTERM"; fi
code=0
wait "$worker_pid" || code=$?
worker_pid=
[ "$code" -eq 0 ] || { cat "$log"; fail "the worker exited with $code after SIGTERM"; }
grep -q "Stats server on .* stopped" "$log" || { cat "$log"; fail "the worker did not log the server's stop"; }
step "ok: SIGTERM stopped the host and the server, exit code 0"
step "PASSED"
