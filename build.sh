#!/usr/bin/env bash
# Same verbs as build.cmd: build (default), test, demo [args], bench [args], load, pack (to ./artifacts), clean.
set -euo pipefail
cd "$(dirname "$0")"

CONFIG=Release
verb="${1:-build}"
[ $# -gt 0 ] && shift

need_sdk() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "error: the .NET SDK is not installed. StatsHandler needs SDK 10.0.100 or newer (see global.json)." >&2
    echo "Install it from https://dot.net/download, or on Debian/Ubuntu: sudo apt-get install dotnet-sdk-10.0" >&2
    exit 1
  fi
  local version
  if ! version=$(dotnet --version 2>/dev/null); then
    echo "error: no installed .NET SDK matches global.json (10.0.100, roll forward to the latest 10.0 feature band)." >&2
    echo "Installed SDKs:" >&2
    dotnet --list-sdks >&2 || true
    echo "Install a 10.0 SDK from https://dot.net/download." >&2
    exit 1
  fi
  echo "dotnet $version"
}

case "$verb" in
  build)
    need_sdk
    dotnet build StatsHandler.slnx -c "$CONFIG" "$@"
    ;;
  test)
    need_sdk
    # Both test projects, one after the other (the reliability suite's timings want the machine), each run even when
    # the other failed; the exit code is the first failure's.
    # A filter that matches nothing makes dotnet test say "No test matches the given testcase filter" and exit 0: a
    # misspelt filter must not pass for a green run, so when neither project ran a test, fail.
    # Build both projects first, then test without building: one project's tests may run the other's (BuildScriptTests
    # runs this verb with --no-build), which on a fresh clone would otherwise find the second project not built yet.
    case " $* " in
      *" --no-build "*) ;;
      *)
        for project in StatsHandler.Tests/StatsHandler.Tests.csproj StatsHandler.Hosting.Tests/StatsHandler.Hosting.Tests.csproj; do
          dotnet build "$project" -c "$CONFIG" -v q -nologo || exit $?
        done
        set -- --no-build "$@"
        ;;
    esac
    status=0
    ran=0
    out=$(mktemp)
    trap 'rm -f "$out"' EXIT
    for project in StatsHandler.Tests/StatsHandler.Tests.csproj StatsHandler.Hosting.Tests/StatsHandler.Hosting.Tests.csproj; do
      set +o pipefail
      dotnet test "$project" -c "$CONFIG" --logger "console;verbosity=normal" "$@" 2>&1 | tee "$out"
      code=${PIPESTATUS[0]}
      set -o pipefail
      [ "$code" -eq 0 ] || [ $status -ne 0 ] || status=$code
      grep -q "No test matches the given testcase filter" "$out" || ran=$((ran + 1))
    done
    if [ $ran -eq 0 ]; then
      echo "error: no test in either project matches the filter ($*). The test classes are named after their files, such as SnippetTests; list them with: dotnet test StatsHandler.Tests -c $CONFIG --list-tests" >&2
      [ $status -ne 0 ] || status=3
    fi
    exit $status
    ;;
  demo)
    need_sdk
    dotnet run --project StatsHandler.Demo -c "$CONFIG" -- "$@"
    ;;
  bench)
    need_sdk
    dotnet run --project StatsHandler.Benchmarks -c "$CONFIG" -- "$@"
    ;;
  load)
    need_sdk
    dotnet build StatsHandler.Demo -c "$CONFIG" -v q -nologo
    dotnet build StatsHandler.Benchmarks -c "$CONFIG" -v q -nologo
    command -v wrk >/dev/null 2>&1 || echo "wrk not found: using the built-in load generator (sudo apt-get install wrk for the reference figures)"
    dotnet StatsHandler.Benchmarks/bin/"$CONFIG"/net10.0/StatsHandler.Benchmarks.dll load \
      --demo StatsHandler.Demo/bin/"$CONFIG"/net10.0/StatsHandler.Demo.dll "$@"
    ;;
  pack)
    need_sdk
    # A local pack gets a version of its own (0.1.0-local.20261205223000), newer than every earlier one, so that
    # `dotnet add package StatsHandler --prerelease` takes it instead of a stale copy in ~/.nuget/packages. A release
    # (CI=true) or STATSHANDLER_VERSION_SUFFIX= (empty) packs the version of Directory.Build.props as it is.
    version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -1)
    if [ "${CI:-}" = "true" ]; then default_suffix=""; else default_suffix="local.$(date -u +%Y%m%d%H%M%S)"; fi
    suffix="${STATSHANDLER_VERSION_SUFFIX-$default_suffix}"
    [ -z "$suffix" ] || version="$version-$suffix"
    echo "packing version $version"
    dotnet pack StatsHandler/StatsHandler.csproj -c "$CONFIG" -o artifacts -p:Version="$version" "$@"
    dotnet pack StatsHandler.Hosting/StatsHandler.Hosting.csproj -c "$CONFIG" -o artifacts -p:Version="$version" "$@"
    ;;
  clean)
    need_sdk
    dotnet clean StatsHandler.slnx -c "$CONFIG" >/dev/null || true
    rm -rf artifacts BenchmarkDotNet.Artifacts ./*/bin ./*/obj ./samples/*/bin ./samples/*/obj
    echo "clean"
    ;;
  -h|--help|help)
    echo "usage: ./build.sh [build|test [dotnet test args]|demo [demo args]|bench [BenchmarkDotNet args]|load|pack|clean]"
    echo "  build   build everything, samples included (the default)"
    echo "  test    both test projects; --filter EXPR runs a subset and fails when it matches no test"
    echo "  demo    run the demo: --addr ADDR (default localhost:8080), --no-churn, --no-gc-events, --busy, --help"
    echo "  bench   BenchmarkDotNet suite, e.g. --filter '*Json*' --job short"
    echo "  load    the side-by-side load harness (about four minutes, loopback only)"
    echo "  pack    write both packages to ./artifacts (a -local.<UTC time> version unless CI=true)"
    echo "  clean   remove build output"
    ;;
  *)
    echo "error: unknown verb '$verb'. usage: ./build.sh [build|test|demo [--addr ADDR] [--no-churn] [--no-gc-events] [--busy]|bench [args]|load|pack|clean]; ./build.sh help for more" >&2
    exit 2
    ;;
esac
