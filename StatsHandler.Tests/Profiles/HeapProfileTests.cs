using System.Text;
using System.Text.Json;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests.Profiles;

/// <summary>Heap profiles of the test process itself, read back as text, JSON and pprof.</summary>
[NonParallelizable]
public class HeapProfileTests
{
    private const int Held = 10_000;

    // An object's header (8 bytes) and method table pointer (8) on a 64-bit runtime, then the one long field (8).
    private const int ProbeSize = 24;

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static readonly string ProbeName = typeof(HeapProfileProbe).FullName!;

    [Test]
    public void A_heap_holding_ten_thousand_instances_of_a_type_lists_exactly_that_many_at_their_instance_size()
    {
        Environment.Is64BitProcess.Should().BeTrue("the instance size below is the 64-bit one");
        HeapProfileProbe[] held = Hold();

        HeapProfile profile = HeapProfile.Collect(CancellationToken.None);

        profile.Complete.Should().BeTrue("the collection's end was seen and no event dropped");
        HeapType probe = profile.Types.Single(t => t.Name == ProbeName);
        probe.Count.Should().Be(Held, "the array keeps every one alive, and nothing else makes them");
        probe.Bytes.Should().Be(Held * ProbeSize);
        HeapType array = profile.Types.Single(t => t.Name == ProbeName + "[]");
        array.Count.Should().Be(1);
        array.Bytes.Should().Be(24 + (Held * 8), "an array is its header, method table and length (24 bytes), then one reference per element");
        GC.KeepAlive(held);
    }

    [Test]
    public void Collections_in_a_row_each_name_every_type_and_count_the_same_objects()
    {
        HeapProfileProbe[] held = Hold();

        for (int i = 0; i < 3; i++)
        {
            HeapProfile profile = HeapProfile.Collect(CancellationToken.None);

            profile.Types.Should().NotContain(t => t.Name.StartsWith("(unnamed", StringComparison.Ordinal), $"collection {i + 1} names every type it found");
            profile.Types.Single(t => t.Name == ProbeName).Count.Should().Be(Held, $"collection {i + 1} counts the same live objects");
            profile.GcPauseMilliseconds.Should().BePositive();
        }

        GC.KeepAlive(held);
    }

    [Test]
    public void With_the_gc_events_session_open_collections_in_a_row_still_name_every_type()
    {
        // The GC events' own session keeps the runtime provider on between snapshots, so the runtime would remember the
        // types it named for the first one and give the next ones only type ids.
        using StatsSource source = new StatsSource().EnableGcEvents();
        source.GcEventSource.Should().Be("diagnostic_port", "the test needs the port's session open");
        HeapProfileProbe[] held = Hold();

        for (int i = 0; i < 3; i++)
        {
            HeapProfile profile = HeapProfile.Collect(CancellationToken.None);

            profile.Types.Where(t => t.Name.StartsWith("(unnamed", StringComparison.Ordinal)).Select(t => t.Name).Should().BeEmpty($"collection {i + 1} names every type it found");
            profile.Types.Single(t => t.Name == ProbeName).Count.Should().Be(Held, $"collection {i + 1} counts the same live objects");
        }

        GC.KeepAlive(held);
    }

    [Test]
    public void The_types_are_sorted_by_bytes_and_the_totals_are_their_sums()
    {
        HeapProfileProbe[] held = Hold();

        HeapProfile profile = HeapProfile.Collect(CancellationToken.None);

        profile.Types.Select(t => t.Bytes).Should().BeInDescendingOrder();
        profile.Types.Select(t => t.Name).Should().OnlyHaveUniqueItems();
        profile.Objects.Should().Be(profile.Types.Sum(t => t.Count));
        profile.Bytes.Should().Be(profile.Types.Sum(t => t.Bytes));
        profile.Types.Should().Contain(t => t.Name == "System.String", "every process holds strings");
        profile.Types.Should().Contain(t => t.Name.Contains('<'), "generic arguments are written in angle brackets, as dotnet-gcdump writes them");
        GC.KeepAlive(held);
    }

    [TestCase("System.String", "System.String")]
    [TestCase("System.Byte[]", "System.Byte[]")]
    [TestCase("System.Int32[,,]", "System.Int32[,,]")]
    [TestCase("System.Collections.Generic.List`1[System.String]", "System.Collections.Generic.List<System.String>")]
    [TestCase("System.Collections.Generic.Dictionary`2[System.String,System.Int32[]]", "System.Collections.Generic.Dictionary<System.String,System.Int32[]>")]
    [TestCase("Entry[System.String,Customer][]", "Entry<System.String,Customer>[]")]
    [TestCase("System.Collections.Generic.List`1[System.Collections.Generic.List`1[System.Int32[,]]][]", "System.Collections.Generic.List<System.Collections.Generic.List<System.Int32[,]>>[]")]
    public void Generic_arguments_are_written_in_angle_brackets_and_array_brackets_kept(string runtime, string shown)
    {
        HeapSnapshotSink.CSharpGenerics(runtime).Should().Be(shown);
    }

    [Test]
    public void The_text_has_a_header_with_the_totals_and_the_pause_then_a_line_per_type()
    {
        HeapProfileProbe[] held = Hold();
        HeapProfile profile = HeapProfile.Collect(CancellationToken.None);

        var text = new StringWriter();
        profile.WriteText(text);

        string[] lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].Should().StartWith($"heap: {profile.Objects} objects, {profile.Bytes} bytes, {profile.Types.Count} types; gc_pause_ms ");
        lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Should().Equal("count", "bytes", "type");
        lines.Should().HaveCount(2 + profile.Types.Count);
        lines.Skip(2).Select(l => l.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries)).Should().Contain(
            f => f[0] == Held.ToString(System.Globalization.CultureInfo.InvariantCulture) && f[1] == (Held * ProbeSize).ToString(System.Globalization.CultureInfo.InvariantCulture) && f[2] == ProbeName);
        GC.KeepAlive(held);
    }

    [Test]
    public void The_json_and_the_pprof_say_the_same_as_the_profile()
    {
        HeapProfileProbe[] held = Hold();
        HeapProfile profile = HeapProfile.Collect(CancellationToken.None);

        using JsonDocument json = JsonDocument.Parse(Json(profile));
        DecodedProfile pprof = PprofDecoder.Decode(profile.ToPprof());

        JsonElement root = json.RootElement;
        root.EnumerateObject().Select(p => p.Name).Should().Equal("gc_pause_ms", "objects", "bytes", "complete", "types");
        root.GetProperty("gc_pause_ms").GetDouble().Should().BeApproximately(profile.GcPauseMilliseconds, 0.001);
        root.GetProperty("objects").GetInt64().Should().Be(profile.Objects);
        root.GetProperty("bytes").GetInt64().Should().Be(profile.Bytes);
        var fromJson = root.GetProperty("types").EnumerateArray()
            .Select(t => (t.GetProperty("name").GetString()!, t.GetProperty("count").GetInt64(), t.GetProperty("bytes").GetInt64())).ToList();
        fromJson.Should().Equal(profile.Types.Select(t => (t.Name, t.Count, t.Bytes)));

        pprof.SampleTypeNames.Should().Equal("inuse_objects/count", "inuse_space/bytes");
        var fromPprof = pprof.Samples.Select(s => (pprof.Stack(s).Single(), s.Values[0], s.Values[1])).ToList();
        fromPprof.Should().Equal(fromJson, "one sample per type, its only frame the type's name, in the same order");
        pprof.Comments.Select(c => pprof.Strings[(int)c]).Should().ContainMatch("*induced full blocking collection*");
        DecodedFunction generic = pprof.Functions.First(f => pprof.Strings[(int)f.Name].Contains('<'));
        pprof.Strings[(int)generic.SystemName].Should().Contain("`").And.NotContain("<", "the system name is the runtime's, so pprof keeps the name as it is");
        GC.KeepAlive(held);
    }

    [Test]
    public void What_a_collection_allocates_grows_with_the_types_not_with_the_objects()
    {
        HeapProfile.Collect(CancellationToken.None);
        long few = Allocated(() => HeapProfile.Collect(CancellationToken.None));
        var many = new HeapProfileProbe[1_000_000];
        for (int i = 0; i < many.Length; i++)
        {
            many[i] = new HeapProfileProbe(i);
        }

        long lots = Allocated(() => HeapProfile.Collect(CancellationToken.None));

        TestContext.Out.WriteLine($"allocated: {few} bytes with the test host's heap, {lots} with a million more objects");
        (lots - few).Should().BeLessThan(4 << 20, "a million more objects (32 MB of events) may not cost even 4 bytes each");
        GC.KeepAlive(many);
    }

    [Test]
    public void A_snapshot_that_overflows_the_session_buffer_says_it_is_incomplete_and_why()
    {
        var many = new HeapProfileProbe[1_000_000];
        for (int i = 0; i < many.Length; i++)
        {
            many[i] = new HeapProfileProbe(i);
        }

        HeapProfile profile = HeapProfile.Collect(started: null, bufferMegabytes: 1, CancellationToken.None);
        var text = new StringWriter();
        profile.WriteText(text);

        TestContext.Out.WriteLine($"{profile.Objects} objects, {profile.Bytes} bytes, {profile.DroppedEvents} events dropped: {profile.Incomplete}");
        profile.Complete.Should().BeFalse("a million objects' records (32 MB) do not fit in 1 MB");
        profile.Objects.Should().BeLessThan(many.Length);
        profile.Incomplete.Should().NotBeNull();
        text.ToString().Should().Contain($"INCOMPLETE: {profile.Incomplete}");
        GC.KeepAlive(many);
    }

    [Test]
    public void A_cancelled_token_ends_a_collection_before_it_starts()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Action collect = () => HeapProfile.Collect(cancelled.Token);

        collect.Should().Throw<OperationCanceledException>();
    }

    [Test]
    public async Task Cancelling_while_the_session_runs_ends_it_within_the_bound_and_frees_the_port_for_the_next()
    {
        for (int i = 0; i < 3; i++)
        {
            using var cancel = new CancellationTokenSource();
            Task<HeapProfile> collecting = Task.Run(() => HeapProfile.Collect(() => cancel.Cancel(), HeapProfile.BufferMegabytes, cancel.Token));

            Func<Task> ended = () => collecting.WaitAsync(Bound);

            await ended.Should().ThrowAsync<OperationCanceledException>($"round {i + 1}: the cancel ends the collection, not the bound");
        }

        HeapProfile.Collect(CancellationToken.None).Complete.Should().BeTrue("the cancelled sessions are gone and a new one runs");
    }

    [Test]
    public async Task Where_the_environment_turns_the_port_off_the_collection_fails_with_an_IOException_naming_the_setting()
    {
        (int exitCode, string output) = await TestChild.RunAsync("heap-profile", new Dictionary<string, string?> { ["DOTNET_EnableDiagnostics"] = "0" });

        output.Should().Contain("IOException: Cannot take a heap profile: DOTNET_EnableDiagnostics=0 turns the diagnostic port off");
        exitCode.Should().Be(TestChild.CaughtIOException, output);
    }

    private static HeapProfileProbe[] Hold()
    {
        var held = new HeapProfileProbe[Held];
        for (int i = 0; i < held.Length; i++)
        {
            held[i] = new HeapProfileProbe(i);
        }

        return held;
    }

    private static long Allocated(Action action)
    {
        long before = GC.GetTotalAllocatedBytes(precise: true);
        action();
        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }

    private static byte[] Json(HeapProfile profile)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            profile.WriteJson(writer);
        }

        return buffer.ToArray();
    }
}

/// <summary>The type the heap tests hold a known number of: one long field, so a known instance size.</summary>
internal sealed class HeapProfileProbe(long value)
{
    public long Value { get; } = value;
}
