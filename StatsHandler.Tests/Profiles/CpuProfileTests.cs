using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests.Profiles;

/// <summary>CPU profiles of the test process, taken on its own diagnostic port and read back with the tests' pprof decoder.</summary>
[NonParallelizable]
public class CpuProfileTests
{
    private const string Spinner = "StatsHandler.Tests.Support.ProfiledThreads.SpinInKnownMethod";

    [Test]
    public void A_thread_spinning_in_a_known_method_is_the_top_frame_by_flat_time_over_idle_threads()
    {
        CpuProfile profile;
        using (ProfiledThreads.Spinning())
        using (ProfiledThreads.Blocked())
        {
            profile = CpuProfile.Collect(TimeSpan.FromSeconds(2), CancellationToken.None);
        }

        DecodedProfile pprof = PprofDecoder.Decode(profile.ToPprof());
        var flat = pprof.Samples.GroupBy(s => pprof.Stack(s)[0]).Select(g => (Name: g.Key, Nanos: g.Sum(s => s.Values[0])))
            .OrderByDescending(f => f.Nanos).ToArray();
        TestContext.Out.WriteLine($"{profile.Samples} cpu samples, {profile.WaitingSamples} waiting; top by flat: "
            + string.Join("; ", flat.Take(8).Select(f => $"{f.Name} {f.Nanos / 1e6:0} ms")));

        profile.DroppedEvents.Should().Be(0, "the runtime's buffer holds every sample and the whole rundown");
        pprof.SampleTypeNames.Should().Equal("cpu/nanoseconds");
        pprof.Period.Should().Be(profile.PeriodNanos).And.BeInRange(1_000_000, 50_000_000, "the sampler's nominal 1 ms, slowed by suspending and walking every thread");
        pprof.Strings[(int)pprof.PeriodType.Type].Should().Be("cpu");
        flat.Take(5).Select(f => f.Name).Should().Contain(Spinner, "the spinning thread burns a core for the whole profile");
        flat[0].Name.Should().Be(Spinner, "the blocked and idle threads are waiting, which is not CPU");
        flat.Select(f => f.Name).Should().NotContain("StatsHandler.Tests.Support.ProfiledThreads.BlockInKnownMethod", "a blocked thread's samples are waiting samples");
        flat[0].Nanos.Should().BeGreaterThan(1_000_000_000, "a thread spinning for two seconds shows most of them as CPU, each sample standing for the measured interval");
        pprof.Samples.Sum(s => s.Values[0]).Should().Be(profile.Samples * profile.PeriodNanos);
        var spinnerFunction = pprof.Functions.Single(f => pprof.Strings[(int)f.Name] == Spinner);
        var location = pprof.Locations.First(l => l.FunctionIds.Contains(spinnerFunction.Id));
        pprof.Strings[(int)pprof.Mappings.Single(m => m.Id == location.MappingId).FileName].Should().Be("StatsHandler.Tests", "each frame carries its module as a mapping");
    }

    [Test]
    public void The_json_form_parses_and_its_frames_index_functions_root_first()
    {
        CpuProfile profile;
        using (ProfiledThreads.Spinning())
        {
            profile = CpuProfile.Collect(TimeSpan.FromSeconds(1), CancellationToken.None);
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            profile.WriteJson(writer);
        }

        using JsonDocument json = JsonDocument.Parse(buffer.ToArray());
        JsonElement root = json.RootElement;
        root.GetProperty("seconds").GetInt32().Should().Be(1);
        root.GetProperty("period_ns").GetInt64().Should().Be(profile.PeriodNanos).And.BeInRange(1_000_000, 50_000_000);
        string[] names = root.GetProperty("functions").EnumerateArray().Select(f => f.GetProperty("name").GetString()!).ToArray();
        JsonElement[] stacks = root.GetProperty("stacks").EnumerateArray().ToArray();
        stacks.Sum(s => s.GetProperty("count").GetInt64()).Should().Be(root.GetProperty("samples").GetInt64());
        stacks.SelectMany(s => s.GetProperty("frames").EnumerateArray()).Should().OnlyContain(f => f.GetInt32() >= 0 && f.GetInt32() < names.Length);

        JsonElement spinning = stacks.First(s => s.GetProperty("frames").EnumerateArray().Any(f => names[f.GetInt32()] == Spinner));
        string[] frames = spinning.GetProperty("frames").EnumerateArray().Select(f => names[f.GetInt32()]).ToArray();
        TestContext.Out.WriteLine("spinning stack, root first: " + string.Join(" > ", frames));
        frames[^1].Should().Be(Spinner, "the leaf comes last");
        frames.Should().Contain("System.Threading.Thread+StartHelper.Callback", "the thread's start is at the root end");
        Array.IndexOf(frames, "System.Threading.Thread+StartHelper.Callback").Should().BeLessThan(Array.IndexOf(frames, "StatsHandler.Tests.Support.ProfiledThreads+<>c.<Spinning>b__4_0"));
        root.GetProperty("functions").EnumerateArray().Single(f => f.GetProperty("name").GetString() == Spinner)
            .GetProperty("module").GetString().Should().Be("StatsHandler.Tests");
    }

    [Test]
    public async Task Cancelling_stops_a_long_profile_within_a_bound()
    {
        using var cancel = new CancellationTokenSource();
        var started = System.Diagnostics.Stopwatch.StartNew();
        Task<CpuProfile> collecting = Task.Run(() => CpuProfile.Collect(TimeSpan.FromMinutes(5), cancel.Token));
        cancel.CancelAfter(TimeSpan.FromMilliseconds(500));

        CpuProfile profile = await collecting.WaitAsync(TimeSpan.FromSeconds(30));

        TestContext.Out.WriteLine($"returned after {started.Elapsed.TotalMilliseconds:0} ms, sampled {profile.Duration.TotalMilliseconds:0} ms");
        profile.Duration.Should().BeLessThan(TimeSpan.FromSeconds(20), "the cancel ends the sampling, not the five minutes");
        profile.Duration.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(400));
    }

    [Test]
    public async Task Where_the_diagnostic_port_is_off_collecting_throws_an_IOException_naming_the_setting()
    {
        (int exitCode, string output) = await TestChild.RunAsync("cpu-profile", new Dictionary<string, string?> { ["DOTNET_EnableDiagnostics"] = "0" });

        output.Should().Contain("IOException").And.Contain("DOTNET_EnableDiagnostics=0");
        exitCode.Should().Be(TestChild.CaughtIOException);
    }
}
