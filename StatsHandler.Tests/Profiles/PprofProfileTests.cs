using StatsHandler.Tests.Support;

namespace StatsHandler.Tests.Profiles;

/// <summary>The hand-written pprof encoder, read back with the tests' own protobuf decoder.</summary>
public class PprofProfileTests
{
    [Test]
    public void A_cpu_profile_parses_back_with_its_sample_type_period_stacks_and_names()
    {
        PprofProfile profile = CpuProfile();

        DecodedProfile decoded = PprofDecoder.Decode(profile.ToGzip());

        decoded.Strings[0].Should().BeEmpty("string_table[0] must be the empty string");
        decoded.SampleTypeNames.Should().Equal("samples/count", "cpu/nanoseconds");
        decoded.Strings[(int)decoded.PeriodType.Type].Should().Be("cpu");
        decoded.Strings[(int)decoded.PeriodType.Unit].Should().Be("nanoseconds");
        decoded.Period.Should().Be(1_000_000);
        decoded.TimeNanos.Should().Be(1_764_979_200_000_000_000);
        decoded.DurationNanos.Should().Be(5_000_000_000);
        decoded.Samples.Should().HaveCount(2, "the two samples on the same stack were merged");
        decoded.Stack(decoded.Samples[0]).Should().Equal("App.Worker.Spin", "App.Program.Main");
        decoded.Samples[0].Values.Should().Equal(2, 2_000_000);
        decoded.Stack(decoded.Samples[1]).Should().Equal("System.Threading.Thread.Sleep", "App.Program.Main");
        decoded.Samples[1].Values.Should().Equal(1, 1_000_000);
        decoded.Comments.Select(c => decoded.Strings[(int)c]).Should().Equal("written by a test");
    }

    [Test]
    public void Functions_mappings_and_locations_are_each_written_once_and_numbered_from_one()
    {
        PprofProfile profile = CpuProfile();

        DecodedProfile decoded = PprofDecoder.Decode(profile.ToGzip());

        decoded.Functions.Select(f => f.Id).Should().Equal(1UL, 2UL, 3UL);
        decoded.Functions.Select(f => decoded.Strings[(int)f.Name]).Should().Equal("App.Worker.Spin", "App.Program.Main", "System.Threading.Thread.Sleep");
        decoded.Functions.Select(f => decoded.Strings[(int)f.FileName]).Should().Equal("App.dll", "App.dll", "System.Private.CoreLib.dll");
        decoded.Locations.Select(l => l.Id).Should().Equal(1UL, 2UL, 3UL);
        decoded.Locations.Select(l => l.MappingId).Should().Equal(1UL, 1UL, 2UL);
        decoded.Locations[0].Address.Should().Be(0x7f00_1234UL);
        decoded.Mappings.Select(m => decoded.Strings[(int)m.FileName]).Should().Equal("App.dll", "System.Private.CoreLib.dll");
        decoded.Mappings.Should().OnlyContain(m => m.HasFunctions);
        decoded.Strings.Should().OnlyHaveUniqueItems("every string is interned once");
    }

    [Test]
    public void A_heap_profile_carries_two_values_per_sample_in_the_order_of_its_sample_types()
    {
        var profile = new PprofProfile(("inuse_objects", "count"), ("inuse_space", "bytes"));
        ulong type = profile.Location(profile.Function("System.String"));
        profile.AddSample([type], 10_000, 640_000);

        DecodedProfile decoded = PprofDecoder.Decode(profile.ToGzip());

        decoded.SampleTypeNames.Should().Equal("inuse_objects/count", "inuse_space/bytes");
        decoded.Samples.Single().Values.Should().Equal(10_000, 640_000);
        decoded.Stack(decoded.Samples.Single()).Should().Equal("System.String");
    }

    [Test]
    public void Large_values_and_long_names_survive_the_varints_and_the_gzip()
    {
        var profile = new PprofProfile(("alloc_space", "bytes"));
        string name = new('N', 70_000);
        ulong location = profile.Location(profile.Function(name));
        profile.AddSample([location], long.MaxValue);
        profile.AddSample([], -5);

        DecodedProfile decoded = PprofDecoder.Decode(profile.ToGzip());

        decoded.Stack(decoded.Samples[0]).Single().Should().HaveLength(70_000);
        decoded.Samples[0].Values.Should().Equal(long.MaxValue);
        decoded.Samples[1].LocationIds.Should().BeEmpty();
        decoded.Samples[1].Values.Should().Equal(-5);
    }

    [Test]
    public void A_sample_with_the_wrong_number_of_values_or_an_unknown_location_is_refused_by_name()
    {
        var profile = new PprofProfile(("cpu", "nanoseconds"));
        ulong location = profile.Location(profile.Function("A.B.C"));

        Action twoValues = () => profile.AddSample([location], 1, 2);
        Action unknown = () => profile.AddSample([location + 1], 1);
        Action badFunction = () => profile.Location(42);
        Action noTypes = () => _ = new PprofProfile();

        twoValues.Should().Throw<ArgumentException>().WithMessage("*1 value(s)*got 2*");
        unknown.Should().Throw<ArgumentException>().WithMessage("*Location id 2*");
        badFunction.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Function()*");
        noTypes.Should().Throw<ArgumentException>().WithMessage("*at least one sample type*");
    }

    [Test]
    public void A_profile_s_bytes_are_those_the_protobuf_encoding_guide_gives_for_packed_varints_and_strings()
    {
        var profile = new PprofProfile(("x", "y"));
        ulong location = profile.Location(profile.Function("f"));
        profile.AddSample([location], 150);

        string hex = Convert.ToHexString(profile.Encode().WrittenSpan);

        hex.Should().StartWith("0A0408011002", "sample_type {type: 1, unit: 2}");
        hex.Should().Contain("1207" + "0A0101" + "12029601", "sample {location_id: [1] packed, value: [150] packed as 96 01}");
        hex.Should().Contain("3200" + "3201" + "78" + "3201" + "79", "the string table starts with the empty string, then \"x\" and \"y\"");
    }

    [Test]
    public void A_written_profile_is_kept_where_go_tool_pprof_can_read_it()
    {
        string path = Path.Combine(TestContext.CurrentContext.WorkDirectory, "pprof-sample.pb.gz");

        File.WriteAllBytes(path, CpuProfile().ToGzip());

        PprofDecoder.Decode(File.ReadAllBytes(path)).Samples.Should().HaveCount(2);
        TestContext.Out.WriteLine($"go tool pprof -raw {path}");
    }

    private static PprofProfile CpuProfile()
    {
        var profile = new PprofProfile(("samples", "count"), ("cpu", "nanoseconds"))
        {
            TimeNanos = 1_764_979_200_000_000_000,
            DurationNanos = 5_000_000_000,
        };
        profile.SetPeriod("cpu", "nanoseconds", 1_000_000);
        profile.AddComment("written by a test");
        ulong app = profile.Mapping("App.dll");
        ulong coreLib = profile.Mapping("System.Private.CoreLib.dll");
        ulong spin = profile.Location(profile.Function("App.Worker.Spin", fileName: "App.dll"), app, 0x7f00_1234);
        ulong main = profile.Location(profile.Function("App.Program.Main", fileName: "App.dll"), app);
        ulong sleep = profile.Location(profile.Function("System.Threading.Thread.Sleep", fileName: "System.Private.CoreLib.dll"), coreLib);
        profile.AddSample([spin, main], 1, 1_000_000);
        profile.AddSample([sleep, main], 1, 1_000_000);
        profile.AddSample([spin, main], 1, 1_000_000);
        return profile;
    }
}
