using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests.Profiles;

/// <summary>Thread stacks of the test process, taken from inside it by a short sampling session.</summary>
[NonParallelizable]
public class ThreadStacksTests
{
    private const string Blocker = "StatsHandler.Tests.Support.ProfiledThreads.BlockInKnownMethod";

    [Test]
    public void A_thread_blocked_in_a_known_method_shows_it_in_its_text_stack_below_the_wait()
    {
        ThreadStacks stacks;
        using (ProfiledThreads.Blocked())
        {
            stacks = ThreadStacks.Collect(CancellationToken.None);
        }

        var text = new StringWriter();
        stacks.WriteText(text);
        TestContext.Out.WriteLine($"sampled {stacks.Sampled.TotalMilliseconds:0} ms, took {stacks.Took.TotalMilliseconds:0} ms, {stacks.Methods} methods, {stacks.DroppedEvents} events dropped, read error {stacks.ReadError?.ToString() ?? "none"}\n{text}");

        stacks.DroppedEvents.Should().Be(0, "the runtime's buffer holds the whole rundown, so every frame is named");
        string[] blocks = text.ToString().Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        string blocked = blocks.Should().ContainSingle(b => b.Contains("\"blocked-probe\"", StringComparison.Ordinal)).Subject;
        string[] lines = blocked.Split('\n');
        lines[0].Should().MatchRegex(@"^Thread \(0x[0-9A-F]+\): ""blocked-probe""$");
        lines[1].Should().Be("  [Native Frames]", "a waiting thread is outside managed code, above its managed frames, as dotnet-stack shows it");
        int wait = Array.FindIndex(lines, l => l.StartsWith("  System.Private.CoreLib!System.Threading.ManualResetEventSlim.Wait(", StringComparison.Ordinal));
        int known = Array.FindIndex(lines, l => l == $"  StatsHandler.Tests!{Blocker}(class System.Threading.ManualResetEventSlim,class System.Threading.ManualResetEventSlim)");
        wait.Should().BePositive("the leaf end shows the wait");
        known.Should().BeGreaterThan(wait, "frames go leaf first, so the caller comes after the wait");
        int start = Array.FindIndex(lines, l => l.StartsWith("  StatsHandler.Tests!StatsHandler.Tests.Support.ProfiledThreads+<>c__DisplayClass", StringComparison.Ordinal));
        start.Should().BeGreaterThan(known, "the thread's start delegate called the known method, so it comes after it");
    }

    [Test]
    public void The_json_form_lists_every_thread_with_its_id_name_and_frames_leaf_first()
    {
        ThreadStacks stacks;
        using (ProfiledThreads.Blocked())
        using (ProfiledThreads.Spinning())
        {
            stacks = ThreadStacks.Collect(CancellationToken.None);
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            stacks.WriteJson(writer);
        }

        using JsonDocument json = JsonDocument.Parse(buffer.ToArray());
        JsonElement[] threads = json.RootElement.GetProperty("threads").EnumerateArray().ToArray();
        threads.Length.Should().BeGreaterThanOrEqualTo(3, "the test runner's thread, the blocked one and the spinning one");
        threads.Select(t => t.GetProperty("id").GetInt64()).Should().OnlyHaveUniqueItems().And.BeInAscendingOrder();

        JsonElement blocked = threads.Single(t => t.GetProperty("name").GetString() == "blocked-probe");
        blocked.GetProperty("id_hex").GetString().Should().Be($"0x{blocked.GetProperty("id").GetInt64():X}");
        blocked.GetProperty("running").GetBoolean().Should().BeFalse("it waits");
        string[] frames = blocked.GetProperty("frames").EnumerateArray().Select(f => f.GetProperty("name").GetString()!).ToArray();
        frames.Should().Contain(Blocker);
        frames[0].Should().Be("[Native Frames]", "it waits outside managed code");
        Array.IndexOf(frames, "System.Threading.ManualResetEventSlim.Wait").Should().BeLessThan(Array.IndexOf(frames, Blocker), "leaf first");
        blocked.GetProperty("frames").EnumerateArray().Single(f => f.GetProperty("name").GetString() == Blocker)
            .GetProperty("module").GetString().Should().Be("StatsHandler.Tests");

        JsonElement spinning = threads.Single(t => t.GetProperty("name").GetString() == "cpu-spinner");
        spinning.GetProperty("running").GetBoolean().Should().BeTrue("it spins in managed code");
        spinning.GetProperty("frames")[0].GetProperty("name").GetString().Should().Be("StatsHandler.Tests.Support.ProfiledThreads.SpinInKnownMethod");
    }

    [Test]
    public async Task Where_the_diagnostic_port_is_off_collecting_throws_an_IOException_naming_the_setting()
    {
        (int exitCode, string output) = await TestChild.RunAsync("thread-stacks", new Dictionary<string, string?> { ["DOTNET_EnableDiagnostics"] = "0" });

        output.Should().Contain("IOException").And.Contain("DOTNET_EnableDiagnostics=0");
        exitCode.Should().Be(TestChild.CaughtIOException);
    }
}
