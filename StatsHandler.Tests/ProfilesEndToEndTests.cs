using System.Net;
using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>
/// The profiles mount of the real demo, run as its own process (its mount at <c>/debug/pprof</c>, <c>--busy</c> for known
/// methods): what a user gets, sessions and all. Alone: each profile costs the machine a core.
/// </summary>
[NonParallelizable]
public class ProfilesEndToEndTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [TestCase("DOTNET_EnableDiagnostics")]
    [TestCase("DOTNET_EnableDiagnostics_IPC")]
    public async Task Without_a_diagnostic_port_every_profile_answers_503_naming_the_setting_and_the_index_still_serves(string variable)
    {
        await using DemoProcess demo = await DemoProcess.StartAsync(new Dictionary<string, string> { [variable] = "0" });
        using var client = new HttpClient { BaseAddress = demo.Url, Timeout = Bound };

        foreach (string route in new[] { "profile?seconds=1", "profile?format=json", "threads", "heap", "heap?debug=1" })
        {
            using HttpResponseMessage response = await client.GetAsync($"/debug/pprof/{route}");
            using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

            response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, route);
            body.RootElement.GetProperty("error").GetString().Should().Be($"cannot profile: {variable}=0 turns the diagnostic port off", route);
        }

        using HttpResponseMessage index = await client.GetAsync("/debug/pprof");
        index.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Test]
    public async Task Nothing_runs_until_a_profile_is_asked_for_and_a_profile_leaves_no_session_behind()
    {
        // Without GC events the demo opens no session of its own: the runtime's EventPipe threads are its diagnostic
        // server's alone, until a profile starts one (its streaming thread, the sample profiler's).
        await using DemoProcess demo = await DemoProcess.StartAsync("127.0.0.1:0", "--no-gc-events", "--busy");
        using var client = new HttpClient { BaseAddress = demo.Url, Timeout = Bound };
        int idle = EventPipeThreads(demo.Id);
        (await client.GetAsync("/debug/pprof")).Dispose();
        (await client.GetAsync("/debug/pprof/profile?seconds=0")).Dispose();
        (await client.GetAsync("/api/stats")).Dispose();
        int afterRequests = EventPipeThreads(demo.Id);

        Task<HttpResponseMessage> profile = client.GetAsync("/debug/pprof/profile?seconds=3");
        int during = await Poll.UntilAsync(_ => Task.FromResult(EventPipeThreads(demo.Id)), n => n > idle, Bound, "the profile's session threads");
        using HttpResponseMessage done = await profile;
        int after = await Poll.UntilAsync(_ => Task.FromResult(EventPipeThreads(demo.Id)), n => n == idle, Bound, "the session's threads to end");

        TestContext.Out.WriteLine($".NET EventPipe threads: idle {idle}, after the index, a 400 and a scrape {afterRequests}, during a profile {during}, after it {after}");
        afterRequests.Should().Be(idle, "the index, a refused profile and the stats open no session");
        during.Should().BeGreaterThan(idle);
        done.StatusCode.Should().Be(HttpStatusCode.OK);
        after.Should().Be(idle);
    }

    [Test]
    public async Task The_busy_demos_cpu_profile_has_Busy_Spin_among_the_top_five_by_flat_time_in_both_forms()
    {
        await using DemoProcess demo = await DemoProcess.StartAsync("127.0.0.1:0", "--busy");
        using var client = new HttpClient { BaseAddress = demo.Url, Timeout = Bound };

        using HttpResponseMessage response = await client.GetAsync("/debug/pprof/profile?seconds=3");
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        DecodedProfile pprof = PprofDecoder.Decode(body);
        string[] flat = [.. pprof.Samples.GroupBy(x => pprof.Stack(x)[0]).OrderByDescending(g => g.Sum(x => x.Values[^1])).Select(g => g.Key).Take(5)];
        string json = await client.GetStringAsync("/debug/pprof/profile?seconds=2&format=json");
        using JsonDocument profile = JsonDocument.Parse(json);
        JsonElement functions = profile.RootElement.GetProperty("functions");
        JsonElement heaviest = profile.RootElement.GetProperty("stacks").EnumerateArray().MaxBy(st => st.GetProperty("count").GetInt64());
        string leaf = functions[heaviest.GetProperty("frames").EnumerateArray().Last().GetInt32()].GetProperty("name").GetString()!;

        TestContext.Out.WriteLine($"pprof: {body.Length} bytes, {pprof.Samples.Count} stacks; top five by flat: {string.Join(", ", flat)}; heaviest JSON stack's leaf: {leaf}");
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/octet-stream");
        pprof.SampleTypeNames.Should().Equal("cpu/nanoseconds");
        flat.Should().Contain(f => f.EndsWith("Busy.Spin", StringComparison.Ordinal));
        leaf.Should().EndWith("Busy.Spin");
    }

    [Test]
    public async Task The_busy_demos_threads_show_the_blocked_thread_waiting_in_Blocked_Wait_as_text_and_json()
    {
        await using DemoProcess demo = await DemoProcess.StartAsync("127.0.0.1:0", "--busy");
        using var client = new HttpClient { BaseAddress = demo.Url, Timeout = Bound };

        string text = await client.GetStringAsync("/debug/pprof/threads");
        string json = await client.GetStringAsync("/debug/pprof/threads?format=json");

        TestContext.Out.WriteLine(text);
        text.Should().Contain("Blocked.Wait").And.Contain("Busy.Spin");
        JsonDocument.Parse(json).RootElement.GetRawText().Should().Contain("Blocked.Wait");
    }

    [Test]
    public async Task The_demos_heap_is_pprof_by_default_text_with_debug_1_and_json_listing_the_same_largest_type()
    {
        await using DemoProcess demo = await DemoProcess.StartAsync();
        using var client = new HttpClient { BaseAddress = demo.Url, Timeout = Bound };

        using HttpResponseMessage bare = await client.GetAsync("/debug/pprof/heap");
        DecodedProfile pprof = PprofDecoder.Decode(await bare.Content.ReadAsByteArrayAsync());
        string text = await client.GetStringAsync("/debug/pprof/heap?debug=1");
        using JsonDocument json = JsonDocument.Parse(await client.GetStringAsync("/debug/pprof/heap?format=json"));
        JsonElement[] types = [.. json.RootElement.GetProperty("types").EnumerateArray()];

        TestContext.Out.WriteLine(string.Join('\n', text.Split('\n').Take(12)));
        bare.Content.Headers.ContentDisposition!.FileName.Should().Be("heap.pb.gz");
        pprof.SampleTypeNames.Should().Equal("inuse_objects/count", "inuse_space/bytes");
        types.Should().NotBeEmpty();
        types.Select(t => t.GetProperty("bytes").GetInt64()).Should().BeInDescendingOrder();
        text.Should().Contain(types[0].GetProperty("name").GetString()!);
    }

    /// <summary>The threads of <paramref name="pid"/> the runtime names <c>.NET EventPipe</c> (Linux: <c>/proc/PID/task/*/comm</c>).</summary>
    private static int EventPipeThreads(int pid)
    {
        int n = 0;
        foreach (string task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).Trim() == ".NET EventPipe")
                {
                    n++;
                }
            }
            catch (IOException)
            {
                // The thread ended while the folder was listed.
            }
        }

        return n;
    }
}
