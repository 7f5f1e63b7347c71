using System.Net;
using System.Text;
using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

public class RuntimeStatsHandlerTests
{
    [Test]
    public async Task Stats_are_json_with_exact_length_and_no_store()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage response = await client.GetAsync("/api/stats");
        byte[] body = await response.Content.ReadAsByteArrayAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        response.Content.Headers.ContentLength.Should().Be(body.Length);
        response.Headers.CacheControl!.NoStore.Should().BeTrue();
        response.Headers.TransferEncodingChunked.Should().NotBe(true);
        body[^1].Should().Be((byte)'}', "no trailing newline unless asked");
    }

    [Test]
    public async Task Keys_come_in_the_documented_order()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        using HttpClient client = TestServers.Client(server);

        using JsonDocument doc = await TestServers.GetJsonAsync(client, "/api/stats");

        doc.RootElement.EnumerateObject().Select(p => p.Name).Should().Equal(
            "time", "dotnet_version", "os", "os_description", "arch", "cpu_num", "pid", "process_start_time",
            "uptime_seconds", "gc_server", "gc_concurrent", "gc_latency_mode", "thread_num", "threadpool_thread_num",
            "threadpool_queue_length", "threadpool_completed_items", "lock_contention_num", "timer_num",
            "cpu_user_seconds", "cpu_system_seconds", "cpu_usage_percent", "memory_alloc", "memory_total_alloc",
            "memory_sys", "memory_committed", "memory_limit", "memory_load", "alloc_per_second", "heap_alloc",
            "heap_fragmented", "heap_gen0", "heap_gen1", "heap_gen2", "heap_loh", "heap_poh", "heap_promoted",
            "heap_pinned_objects", "heap_finalization_pending", "gc_num", "gc_gen0_num", "gc_gen1_num", "gc_gen2_num",
            "gc_per_second", "gc_pause_total_ms", "gc_pause_per_second", "gc_pause_percent", "gc_pause",
            "jit_method_num", "jit_il_bytes", "jit_time_ms", "assembly_num", "exception_num", "rate_interval_seconds");
    }

    [Test]
    public async Task Values_describe_this_process()
    {
        GC.Collect();
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        using HttpClient client = TestServers.Client(server);
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;

        using JsonDocument doc = await TestServers.GetJsonAsync(client, "/api/stats");
        JsonElement s = doc.RootElement;

        s.GetProperty("time").GetInt64().Should().BeInRange(before - 1_000_000_000, before + 60_000_000_000);
        s.GetProperty("pid").GetInt32().Should().Be(Environment.ProcessId);
        s.GetProperty("cpu_num").GetInt32().Should().Be(Environment.ProcessorCount);
        s.GetProperty("dotnet_version").GetString().Should().StartWith(".NET ");
        s.GetProperty("os").GetString().Should().Be(OperatingSystem.IsWindows() ? "windows" : OperatingSystem.IsLinux() ? "linux" : "osx");
        s.GetProperty("arch").GetString().Should().BeOneOf("x64", "arm64", "x86", "arm");
        s.GetProperty("process_start_time").GetInt64().Should().BeLessThan(s.GetProperty("time").GetInt64());
        s.GetProperty("uptime_seconds").GetDouble().Should().BePositive();
        s.GetProperty("gc_latency_mode").GetString().Should().MatchRegex("^[a-z_]+$");
        s.GetProperty("thread_num").GetInt32().Should().BeGreaterThanOrEqualTo(s.GetProperty("threadpool_thread_num").GetInt32()).And.BePositive();
        s.GetProperty("memory_sys").GetInt64().Should().BeGreaterThan(1 << 20);
        s.GetProperty("memory_alloc").GetInt64().Should().BePositive();
        s.GetProperty("memory_total_alloc").GetInt64().Should().BeGreaterThanOrEqualTo(s.GetProperty("memory_alloc").GetInt64() / 2);
        s.GetProperty("memory_limit").GetInt64().Should().BePositive();
        s.GetProperty("memory_committed").GetInt64().Should().BePositive();
        s.GetProperty("heap_alloc").GetInt64().Should().BePositive();
        s.GetProperty("gc_num").GetInt32().Should().BePositive();
        s.GetProperty("gc_gen2_num").GetInt32().Should().BePositive();
        s.GetProperty("gc_pause_total_ms").GetDouble().Should().BePositive();
        s.GetProperty("cpu_user_seconds").GetDouble().Should().BePositive();
        s.GetProperty("cpu_usage_percent").GetDouble().Should().BeInRange(0, 100);
        s.GetProperty("jit_method_num").GetInt64().Should().BePositive();
        s.GetProperty("assembly_num").GetInt32().Should().BeGreaterThan(5);
        s.GetProperty("rate_interval_seconds").GetDouble().Should().BePositive("the first sample has rates too");
    }

    [Test]
    public async Task Pretty_print_applies_only_to_the_request_that_asked()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        using HttpClient client = TestServers.Client(server);

        string plain = await client.GetStringAsync("/api/stats");
        string pretty = await client.GetStringAsync("/api/stats?pp=1");
        string prettyTrue = await client.GetStringAsync("/api/stats?pp=true");
        string afterwards = await client.GetStringAsync("/api/stats");
        string off = await client.GetStringAsync("/api/stats?pp=0");

        plain.Should().NotContain("\n");
        pretty.Should().StartWith("{\n  \"time\": ");
        prettyTrue.Should().Contain("\n  \"pid\": ");
        afterwards.Should().NotContain("\n", "the seed's ?pp=1 turned pretty printing on for everyone, forever");
        off.Should().NotContain("\n");
    }

    [Test]
    public async Task Newline_termination_is_an_option_off_by_default()
    {
        using var handler = new RuntimeStatsHandler(new RuntimeStatsHandlerOptions { NewLineTerminated = true });
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/nl", handler).Handle("/plain"));
        using HttpClient client = TestServers.Client(server);

        string terminated = await client.GetStringAsync("/nl");
        string prettyTerminated = await client.GetStringAsync("/nl?pp=1");
        string plain = await client.GetStringAsync("/plain");

        terminated.Should().EndWith("}\n");
        prettyTerminated.Should().EndWith("\n}\n");
        plain.Should().EndWith("}");
        JsonDocument.Parse(terminated).RootElement.GetProperty("pid").GetInt32().Should().Be(Environment.ProcessId);
    }

    [Test]
    [NonParallelizable]
    public async Task A_collection_forced_between_two_samples_shows_in_the_next_sample()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        using HttpClient client = TestServers.Client(server);
        using JsonDocument first = await TestServers.GetJsonAsync(client, "/api/stats");

        GC.Collect(2, GCCollectionMode.Forced, blocking: true);
        TimeSpan pause = GCMemoryInfoPause(GCKind.FullBlocking);
        using JsonDocument second = await TestServers.GetJsonAsync(client, "/api/stats");

        second.RootElement.GetProperty("gc_num").GetInt32().Should().BeGreaterThan(first.RootElement.GetProperty("gc_num").GetInt32());
        second.RootElement.GetProperty("gc_gen2_num").GetInt32().Should().BeGreaterThan(first.RootElement.GetProperty("gc_gen2_num").GetInt32());
        double[] pauses = second.RootElement.GetProperty("gc_pause").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        pauses.Should().NotBeEmpty().And.HaveCountLessThanOrEqualTo(256);
        pauses.Should().Contain(p => Math.Abs(p - pause.TotalMilliseconds) < 0.001, "the forced collection's own pause is listed");
        second.RootElement.GetProperty("gc_pause_total_ms").GetDouble()
            .Should().BeGreaterThanOrEqualTo(first.RootElement.GetProperty("gc_pause_total_ms").GetDouble() + pause.TotalMilliseconds - 0.01);
    }

    [Test]
    public async Task Exceptions_thrown_after_the_server_was_created_are_counted()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        using HttpClient client = TestServers.Client(server);
        using JsonDocument before = await TestServers.GetJsonAsync(client, "/api/stats");

        for (int i = 0; i < 5; i++)
        {
            try
            {
                throw new InvalidOperationException("counted");
            }
            catch (InvalidOperationException)
            {
                // Thrown only to be counted.
            }
        }

        using JsonDocument after = await TestServers.GetJsonAsync(client, "/api/stats");
        after.RootElement.GetProperty("exception_num").GetInt64()
            .Should().BeGreaterThanOrEqualTo(before.RootElement.GetProperty("exception_num").GetInt64() + 5);
    }

    [TestCase("/api/stats?pp=%zz")]
    [TestCase("/api/stats?pp=%")]
    [TestCase("/api/stats?pp=%00")]
    [TestCase("/api/stats?pp=1&pp=0&pp=1&pp=%ff%fe")]
    [TestCase("/api/stats?%%%%=%%%%&&&&==")]
    [TestCase("/api/stats?pp=\u00e9\u00e8")]
    public async Task Hostile_query_strings_never_give_a_5xx(string target)
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));

        RawResponse response = await TestServers.SendRawAsync(
            server.Url, Encoding.UTF8.GetBytes($"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));

        response.Status.Should().BeLessThan(500);
        if (response.Status == 200)
        {
            JsonDocument.Parse(response.Body).RootElement.GetProperty("pid").GetInt32().Should().Be(Environment.ProcessId);
        }
    }

    [Test]
    public async Task A_4kb_query_value_and_many_repeats_never_give_a_5xx()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        string big = "/api/stats?pp=" + new string('1', 4096);
        string repeats = "/api/stats?" + string.Join('&', Enumerable.Repeat("pp=1", 500));
        string nul = "/api/stats?pp=1\0";

        foreach (string target in new[] { big, repeats, nul })
        {
            RawResponse response = await TestServers.SendRawAsync(
                server.Url, Encoding.Latin1.GetBytes($"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
            response.Status.Should().BeLessThan(500, target[..Math.Min(40, target.Length)]);
        }

        using HttpClient client = TestServers.Client(server);
        (await client.GetStringAsync("/api/stats?pp=1")).Should().Contain("\n", "the server still serves normally");
    }

    [Test]
    public async Task Two_clients_polling_concurrently_see_the_interval_one_client_would_see()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.Handle("/api/stats"));
        using HttpClient a = TestServers.Client(server);
        using HttpClient b = TestServers.Client(server);

        for (int i = 0; i < 20; i++)
        {
            Task<JsonDocument> fromA = TestServers.GetJsonAsync(a, "/api/stats");
            Task<JsonDocument> fromB = TestServers.GetJsonAsync(b, "/api/stats");
            foreach (JsonDocument doc in await Task.WhenAll(fromA, fromB))
            {
                using (doc)
                {
                    double interval = doc.RootElement.GetProperty("rate_interval_seconds").GetDouble();
                    interval.Should().BeGreaterThan(0.25, "requests microseconds apart never divide by a tiny interval");
                    foreach (string key in new[] { "cpu_usage_percent", "alloc_per_second", "gc_per_second", "gc_pause_per_second", "gc_pause_percent" })
                    {
                        double rate = doc.RootElement.GetProperty(key).GetDouble();
                        double.IsFinite(rate).Should().BeTrue(key);
                        rate.Should().BeGreaterThanOrEqualTo(0, key);
                    }
                }
            }
        }
    }

    private static TimeSpan GCMemoryInfoPause(GCKind kind)
    {
        GCMemoryInfo info = GC.GetGCMemoryInfo(kind);
        TimeSpan total = TimeSpan.Zero;
        foreach (TimeSpan pause in info.PauseDurations)
        {
            total += pause;
        }

        return total;
    }
}
