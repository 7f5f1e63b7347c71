using System.Net;
using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>Traces on demand from the process's own diagnostic port, over real HTTP. Alone: one trace per process.</summary>
[NonParallelizable]
public class TraceHandlerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Test]
    public async Task A_cpu_trace_streams_a_nettrace_that_the_reader_parses_with_samples_and_method_names()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.HandleTrace("/debug/trace"));
        using HttpClient client = TestServers.Client(server);
        client.Timeout = Bound;

        using HttpResponseMessage response = await client.GetAsync("/debug/trace?seconds=1&profile=cpu");
        byte[] trace = await response.Content.ReadAsByteArrayAsync();
        var sink = CountingSink.Read(new MemoryStream(trace));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/octet-stream");
        response.Content.Headers.ContentDisposition!.FileName.Should().MatchRegex($"^\"?trace-{Environment.ProcessId}-\\d{{8}}-\\d{{6}}\\.nettrace\"?$");
        sink.Info.ProcessId.Should().Be(Environment.ProcessId);
        sink.Events.Should().BePositive();
        sink.Count(EventPipeProvider.SampleProfiler, 0).Should().BePositive("the sample profiler's thread samples");
        sink.Count(EventPipeProvider.Rundown, 144).Should().BePositive("the rundown names the methods (MethodDCEndVerbose)");
    }

    [Test]
    public async Task Explicit_providers_record_only_what_they_name()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.HandleTrace("/debug/trace"));
        using HttpClient client = TestServers.Client(server);
        client.Timeout = Bound;

        using HttpResponseMessage response = await client.GetAsync(
            "/debug/trace?seconds=1&providers=Microsoft-Windows-DotNETRuntime:0x1:4", HttpCompletionOption.ResponseHeadersRead);
        for (int i = 0; i < 5; i++)
        {
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        }

        var sink = CountingSink.Read(new MemoryStream(await response.Content.ReadAsByteArrayAsync()));

        sink.Count(EventPipeProvider.Runtime, 1).Should().BePositive("GCStart, of the GC keyword");
        sink.Count(EventPipeProvider.SampleProfiler, 0).Should().Be(0, "the sample profiler was not asked for");
    }

    [TestCase("seconds=0", "seconds='0'")]
    [TestCase("seconds=61", "seconds='61'")]
    [TestCase("seconds=abc", "seconds='abc'")]
    [TestCase("profile=memory", "profile='memory'")]
    [TestCase("providers=Microsoft-Windows-DotNETRuntime:0xZZ", "Keywords '0xZZ'")]
    [TestCase("providers=Foo:0x1:Loud", "Level 'Loud'")]
    [TestCase("profile=cpu&providers=Foo", "not both")]
    public async Task A_bad_option_gets_400_with_a_json_body_naming_the_bad_part(string query, string named)
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.HandleTrace("/debug/trace"));
        using HttpClient client = TestServers.Client(server);

        using HttpResponseMessage response = await client.GetAsync($"/debug/trace?{query}");
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        body.RootElement.GetProperty("error").GetString().Should().Contain(named);
    }

    [Test]
    public async Task Two_traces_at_once_the_second_gets_409_and_the_first_completes()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.HandleTrace("/debug/trace"));
        using HttpClient client = TestServers.Client(server);
        client.Timeout = Bound;

        using HttpResponseMessage first = await client.GetAsync("/debug/trace?seconds=3&profile=gc", HttpCompletionOption.ResponseHeadersRead);
        using HttpResponseMessage second = await client.GetAsync("/debug/trace?seconds=1&profile=gc");
        using JsonDocument body = JsonDocument.Parse(await second.Content.ReadAsStringAsync());
        byte[] trace = await first.Content.ReadAsByteArrayAsync();

        first.StatusCode.Should().Be(HttpStatusCode.OK);
        second.StatusCode.Should().Be(HttpStatusCode.Conflict);
        body.RootElement.GetProperty("error").GetString().Should().Contain("already running");
        CountingSink.Read(new MemoryStream(trace)).Info.ProcessId.Should().Be(Environment.ProcessId);
    }

    [Test]
    public async Task A_client_that_leaves_mid_trace_ends_it_and_the_next_trace_succeeds_five_times()
    {
        await using StatsServer server = await TestServers.StartAsync(s => s.HandleTrace("/debug/trace"));
        using HttpClient client = TestServers.Client(server);
        client.Timeout = Bound;
        for (int round = 0; round < 5; round++)
        {
            using (var leaving = new HttpClient { BaseAddress = server.Url, Timeout = Bound })
            {
                using HttpResponseMessage response = await leaving.GetAsync("/debug/trace?seconds=60&profile=cpu", HttpCompletionOption.ResponseHeadersRead);
                response.StatusCode.Should().Be(HttpStatusCode.OK);
                using Stream stream = await response.Content.ReadAsStreamAsync();
                byte[] start = new byte[8];
                await stream.ReadExactlyAsync(start);
            }

            // The next trace is refused (409) until the first one's session has stopped; then it succeeds.
            HttpResponseMessage next = await Poll.UntilAsync(
                ct => client.GetAsync("/debug/trace?seconds=1&profile=gc", ct),
                r => r.StatusCode != HttpStatusCode.Conflict,
                TimeSpan.FromSeconds(40),
                $"round {round}: the departed client's trace to end");
            using (next)
            {
                next.StatusCode.Should().Be(HttpStatusCode.OK, $"round {round}");
                CountingSink.Read(new MemoryStream(await next.Content.ReadAsByteArrayAsync())).Info.ProcessId.Should().Be(Environment.ProcessId);
            }
        }
    }

    [Test]
    public async Task Stopping_the_server_during_a_trace_ends_it_within_the_bound_five_times()
    {
        for (int round = 0; round < 5; round++)
        {
            StatsServer server = await TestServers.StartAsync(s => s.HandleTrace("/debug/trace"));
            using HttpClient client = TestServers.Client(server);
            client.Timeout = Bound;
            using HttpResponseMessage response = await client.GetAsync("/debug/trace?seconds=60&profile=cpu", HttpCompletionOption.ResponseHeadersRead);
            Task<byte[]> body = response.Content.ReadAsByteArrayAsync();

            var clock = System.Diagnostics.Stopwatch.StartNew();
            Task stop = server.DisposeAsync().AsTask();
            (await Task.WhenAny(stop, Task.Delay(Bound))).Should().BeSameAs(stop, $"round {round}: the stop ends within {Bound}");
            await stop;
            TestContext.Out.WriteLine($"round {round}: stopped in {clock.Elapsed.TotalSeconds:0.00} s");
            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30), "the trace stops with the server, not after its 60 s");
            await body.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(Bound);
        }
    }

    [Test]
    public void A_trace_route_on_every_interface_without_credentials_refuses_to_start()
    {
        using var server = new StatsServer(":0").HandleTrace("/debug/trace");

        Func<Task> start = () => server.StartAsync();

        start.Should().ThrowAsync<InvalidOperationException>().WithMessage("*trace this process*credentials*").Wait();
    }
}
