using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StatsHandler.Tests.Support;

/// <summary>
/// Debian's <c>chromium</c>, headless, with its own throw-away profile, driven over the DevTools protocol. Disposing it
/// kills its whole process tree, waits for it to exit and deletes the profile.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    // Debian's package first (what CI installs), then where other systems keep a Chromium-based browser.
    private static readonly string[] Candidates =
    [
        "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome",
        "/Applications/Chromium.app/Contents/MacOS/Chromium", "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
        @"C:\Program Files\Google\Chrome\Application\chrome.exe", @"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
    ];

    private readonly Process _process;
    private readonly string _profile;
    private readonly ConcurrentQueue<string> _stderr;

    private HeadlessChromium(Process process, string profile, ConcurrentQueue<string> stderr, CdpClient client)
    {
        _process = process;
        _profile = profile;
        _stderr = stderr;
        Client = client;
    }

    public CdpClient Client { get; }

    /// <summary>The browser binary: <c>$CHROMIUM_PATH</c>, else the first of the usual Linux paths that exists, else null.</summary>
    public static string? FindExecutable()
    {
        string? configured = Environment.GetEnvironmentVariable("CHROMIUM_PATH");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured) ? configured : null;
        }

        return Candidates.FirstOrDefault(File.Exists);
    }

    /// <summary>A clear failure for a machine without the browser; CI installs it, so there it is a real error.</summary>
    public static string MissingMessage() =>
        (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CHROMIUM_PATH"))
            ? $"Chromium was not found at {string.Join(", ", Candidates)}. "
            : $"CHROMIUM_PATH '{Environment.GetEnvironmentVariable("CHROMIUM_PATH")}' is not a file. ") +
        "Install Debian's package: 'apt-get install chromium' (.ci/run does this), or set CHROMIUM_PATH. " +
        (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
            ? "CI=true: the browser test is required here."
            : "The dashboard's browser test cannot run without it.");

    public static async Task<HeadlessChromium> LaunchAsync(string executable, CancellationToken cancellationToken)
    {
        string profile = Directory.CreateTempSubdirectory("statshandler-chromium-").FullName;
        var start = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (string arg in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
            "--disable-features=Translate,MediaRouter,OptimizationHints", "--remote-debugging-port=0",
            $"--user-data-dir={profile}", "--window-size=1280,800", "about:blank",
        })
        {
            start.ArgumentList.Add(arg);
        }

        var stderr = new ConcurrentQueue<string>();
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {executable}.");
        }
        catch
        {
            await DeleteProfileAsync(profile);
            throw;
        }

        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            stderr.Enqueue(e.Data);
            while (stderr.Count > 40 && stderr.TryDequeue(out string? _))
            {
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        try
        {
            // Chromium writes its port and browser endpoint here once it is listening.
            string portFile = Path.Combine(profile, "DevToolsActivePort");
            string[] lines = await Poll.UntilAsync(
                _ => Task.FromResult(process.HasExited ? ["exited"] : ReadLines(portFile)),
                l => l.Length >= 2 || process.HasExited,
                TimeSpan.FromSeconds(30),
                "Chromium's DevToolsActivePort file",
                cancellationToken);
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Chromium exited with code {process.ExitCode} at start: {string.Join(" | ", stderr)}");
            }

            var endpoint = new Uri($"ws://127.0.0.1:{lines[0].Trim()}{lines[1].Trim()}");
            CdpClient client = await CdpClient.ConnectAsync(endpoint, cancellationToken);
            return new HeadlessChromium(process, profile, stderr, client);
        }
        catch
        {
            await KillAsync(process);
            process.Dispose();
            await DeleteProfileAsync(profile);
            throw;
        }
    }

    /// <summary>Opens a new tab and attaches a flat session to it.</summary>
    public async Task<CdpPage> NewPageAsync(CancellationToken cancellationToken)
    {
        JsonElement target = await Client.SendAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank" }, cancellationToken: cancellationToken);
        string targetId = target.GetProperty("targetId").GetString()!;
        JsonElement attached = await Client.SendAsync(
            "Target.attachToTarget",
            new JsonObject { ["targetId"] = targetId, ["flatten"] = true },
            cancellationToken: cancellationToken);
        return new CdpPage(Client, attached.GetProperty("sessionId").GetString()!);
    }

    /// <summary>The last lines Chromium wrote to stderr, for failure messages.</summary>
    public string StderrTail => string.Join(Environment.NewLine, _stderr);

    public async ValueTask DisposeAsync()
    {
        // Kill the whole tree while the browser process still exists, so its zygote and renderers are found and go too.
        try
        {
            await KillAsync(_process);
        }
        finally
        {
            await Client.DisposeAsync();
            _process.Dispose();
            await DeleteProfileAsync(_profile);
        }
    }

    private static string[] ReadLines(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllLines(path) : [];
        }
        catch (IOException)
        {
            return []; // still being written
        }
    }

    private static async Task KillAsync(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
            // It had exited already.
        }
    }

    private static async Task DeleteProfileAsync(string profile)
    {
        // A child process may still be flushing for a moment after the kill: retry until the directory is gone.
        await Poll.UntilAsync(
            _ => Task.FromResult(TryDelete(profile)),
            deleted => deleted,
            TimeSpan.FromSeconds(10),
            $"Chromium's profile {profile} to be deleted");
    }

    private static bool TryDelete(string profile)
    {
        try
        {
            if (Directory.Exists(profile))
            {
                Directory.Delete(profile, recursive: true);
            }

            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
