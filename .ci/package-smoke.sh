#!/usr/bin/env bash
# Package consumer check: ./build.sh pack, then a throwaway console project outside the repository restores
# StatsHandler from ./artifacts (next to nuget.org for the SDK's own packages), starts a server on 127.0.0.1:0,
# GETs /api/stats and prints the status and a key. Also checks the package brings no transitive dependency.
# Prints each check; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

fail() { echo "package-smoke: FAILED: $*" >&2; exit 1; }
step() { echo "package-smoke: $*"; }

version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -1)
[ -n "$version" ] || fail "no <Version> in Directory.Build.props"

step "./build.sh pack (version $version from Directory.Build.props)"
./build.sh pack || fail "./build.sh pack"
nupkg="artifacts/StatsHandler.$version.nupkg"
snupkg="artifacts/StatsHandler.$version.snupkg"
[ -f "$nupkg" ] || fail "$nupkg was not written"
[ -f "$snupkg" ] || fail "$snupkg was not written"
step "ok: $nupkg ($(wc -c < "$nupkg") bytes), $snupkg ($(wc -c < "$snupkg") bytes)"

work=$(mktemp -d "${TMPDIR:-/tmp}/statshandler-consumer.XXXXXX")
trap 'rm -rf "$work"' EXIT
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
step "PASSED"
