@echo off
rem Same verbs as build.sh: build (default), test, demo [args], bench [args], load, pack (to .\artifacts), clean.
setlocal
cd /d "%~dp0"
set CONFIG=Release
set VERB=%~1
if "%VERB%"=="" set VERB=build
if not "%~1"=="" shift
set ARGS=
:collect
if "%~1"=="" goto checksdk
set ARGS=%ARGS% %1
shift
goto collect

:checksdk
where dotnet >nul 2>nul
if errorlevel 1 (
  echo error: the .NET SDK is not installed. StatsHandler needs SDK 10.0.100 or newer, see global.json. 1>&2
  echo Install it from https://dot.net/download 1>&2
  exit /b 1
)
dotnet --version >nul 2>nul
if errorlevel 1 (
  echo error: no installed .NET SDK matches global.json: 10.0.100, rolling forward to the latest 10.0 feature band. 1>&2
  dotnet --list-sdks 1>&2
  echo Install a 10.0 SDK from https://dot.net/download 1>&2
  exit /b 1
)
for /f %%v in ('dotnet --version') do echo dotnet %%v
if /i "%VERB%"=="build" goto build
if /i "%VERB%"=="test" goto test
if /i "%VERB%"=="demo" goto demo
if /i "%VERB%"=="bench" goto bench
if /i "%VERB%"=="load" goto load
if /i "%VERB%"=="pack" goto pack
if /i "%VERB%"=="clean" goto clean
if /i "%VERB%"=="help" goto help
if /i "%VERB%"=="-h" goto help
if /i "%VERB%"=="--help" goto help
echo error: unknown verb '%VERB%'. usage: build.cmd [build^|test^|demo [--addr ADDR] [--no-churn] [--no-gc-events] [--busy]^|bench [args]^|load^|pack^|clean]; build.cmd help for more 1>&2
exit /b 2

:build
dotnet build StatsHandler.slnx -c %CONFIG% %ARGS%
exit /b %ERRORLEVEL%

:test
rem Both test projects, one after the other, each run even when the other failed. A filter that matches no test in
rem either project fails the run (dotnet test itself exits 0 then); each project's output is shown once it ends.
set STATUS=0
set RAN=0
set TESTLOG=%TEMP%\statshandler-test-%RANDOM%.log
dotnet test StatsHandler.Tests\StatsHandler.Tests.csproj -c %CONFIG% --logger "console;verbosity=normal" %ARGS% > "%TESTLOG%" 2>&1
if errorlevel 1 set STATUS=1
type "%TESTLOG%"
findstr /c:"No test matches the given testcase filter" "%TESTLOG%" >nul || set /a RAN+=1
dotnet test StatsHandler.Hosting.Tests\StatsHandler.Hosting.Tests.csproj -c %CONFIG% --logger "console;verbosity=normal" %ARGS% > "%TESTLOG%" 2>&1
if errorlevel 1 set STATUS=1
type "%TESTLOG%"
findstr /c:"No test matches the given testcase filter" "%TESTLOG%" >nul || set /a RAN+=1
del "%TESTLOG%" >nul 2>nul
if %RAN%==0 (
  echo error: no test in either project matches the filter:%ARGS%. The test classes are named after their files, such as SnippetTests. 1>&2
  if %STATUS%==0 set STATUS=3
)
exit /b %STATUS%

:demo
dotnet run --project StatsHandler.Demo -c %CONFIG% -- %ARGS%
exit /b %ERRORLEVEL%

:bench
dotnet run --project StatsHandler.Benchmarks -c %CONFIG% -- %ARGS%
exit /b %ERRORLEVEL%

:load
dotnet build StatsHandler.Demo -c %CONFIG% -v q -nologo || exit /b 1
dotnet build StatsHandler.Benchmarks -c %CONFIG% -v q -nologo || exit /b 1
dotnet StatsHandler.Benchmarks\bin\%CONFIG%\net10.0\StatsHandler.Benchmarks.dll load --demo StatsHandler.Demo\bin\%CONFIG%\net10.0\StatsHandler.Demo.dll %ARGS%
exit /b %ERRORLEVEL%

:pack
rem A local pack gets a version of its own (0.1.0-local.20261205223000), as in build.sh; CI=true packs the version as it is.
for /f "tokens=3 delims=<>" %%v in ('findstr /c:"<Version>" Directory.Build.props') do set PACKVERSION=%%v
if /i not "%CI%"=="true" (
  for /f %%t in ('powershell -NoProfile -Command "(Get-Date).ToUniversalTime().ToString('yyyyMMddHHmmss')"') do set PACKVERSION=%PACKVERSION%-local.%%t
)
echo packing version %PACKVERSION%
dotnet pack StatsHandler\StatsHandler.csproj -c %CONFIG% -o artifacts -p:Version=%PACKVERSION% %ARGS% || exit /b 1
dotnet pack StatsHandler.Hosting\StatsHandler.Hosting.csproj -c %CONFIG% -o artifacts -p:Version=%PACKVERSION% %ARGS%
exit /b %ERRORLEVEL%

:clean
dotnet clean StatsHandler.slnx -c %CONFIG% >nul
if exist artifacts rmdir /s /q artifacts
if exist BenchmarkDotNet.Artifacts rmdir /s /q BenchmarkDotNet.Artifacts
for /d %%d in (StatsHandler*) do (
  if exist "%%d\bin" rmdir /s /q "%%d\bin"
  if exist "%%d\obj" rmdir /s /q "%%d\obj"
)
for /d %%d in (samples\*) do (
  if exist "%%d\bin" rmdir /s /q "%%d\bin"
  if exist "%%d\obj" rmdir /s /q "%%d\obj"
)
echo clean
exit /b 0

:help
echo usage: build.cmd [build^|test [dotnet test args]^|demo [demo args]^|bench [BenchmarkDotNet args]^|load^|pack^|clean]
echo   build   build everything, samples included (the default)
echo   test    both test projects; --filter EXPR runs a subset and fails when it matches no test
echo   demo    run the demo: --addr ADDR (default localhost:8080), --no-churn, --no-gc-events, --busy, --help
echo   bench   BenchmarkDotNet suite, e.g. --filter *Json* --job short
echo   load    the side-by-side load harness (about four minutes, loopback only)
echo   pack    write both packages to .\artifacts (a -local.^<UTC time^> version unless CI=true)
echo   clean   remove build output
exit /b 0
