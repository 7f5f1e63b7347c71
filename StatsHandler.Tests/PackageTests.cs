using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using System.Xml.Linq;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>
/// Runs the real <c>dotnet pack</c> of the library, as a CI build (CI=true), into a folder of its own, then opens the
/// .nupkg and .snupkg and checks every promise the package makes. Not run in parallel with other fixtures: a
/// compile would skew the reliability suite's timings.
/// </summary>
[NonParallelizable]
[Category("Package")]
public class PackageTests
{
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");
    private static readonly Guid EmbeddedSourceKind = new("0E8A571B-6926-466E-B4AD-8AB04611F5FE");
    private static readonly TimeSpan PackBound = TimeSpan.FromMinutes(4);

    // A stand-in for the address a release passes: StatsHandler has no public repository yet.
    private const string ReleaseRepositoryUrl = "https://github.com/example-owner/statshandler";

    private string _work = null!;
    private string _version = null!;
    private string _commit = null!;
    private XElement _metadata = null!;
    private XNamespace _ns = null!;
    private Dictionary<string, byte[]> _package = null!;
    private Dictionary<string, byte[]> _symbols = null!;

    [OneTimeSetUp]
    public async Task Pack_the_library()
    {
        _version = Repository.Version();
        (int gitExit, string head) = await Repository.RunAsync("git", ["rev-parse", "HEAD"], Repository.Root, TimeSpan.FromSeconds(30));
        gitExit.Should().Be(0, head);
        _commit = head.Trim();

        // Inside the repository (artifacts/ is git-ignored) so the CI path map covers the generated sources too;
        // its own folder per run; the project's obj/ and bin/ are left alone.
        _work = Path.Combine(Repository.Root, "artifacts", "tests", "pack-" + Guid.NewGuid().ToString("N"));
        string output = Path.Combine(_work, "out");
        Directory.CreateDirectory(_work);
        (int exit, string log) = await Repository.RunAsync(
            Repository.Dotnet,
            [
                "pack", Path.Combine(Repository.Root, "StatsHandler", "StatsHandler.csproj"),
                "-c", "Release", "-o", output, "-nodeReuse:false",
                $"-p:OutputPath={Path.Combine(_work, "bin")}{Path.DirectorySeparatorChar}",
                $"-p:IntermediateOutputPath={Path.Combine(_work, "obj")}{Path.DirectorySeparatorChar}",
                $"-p:NuspecOutputPath={Path.Combine(_work, "nuspec")}{Path.DirectorySeparatorChar}",
                // No repository address is claimed by default (Directory.Build.props); a release passes the real one,
                // as this does, to check what it turns into: the project URL, the nuspec's repository, SourceLink.
                $"-p:StatsHandlerRepositoryUrl={ReleaseRepositoryUrl}",
            ],
            Repository.Root,
            PackBound,
            Repository.DotnetEnvironment(("CI", "true")));
        exit.Should().Be(0, "dotnet pack must succeed with warnings as errors:\n" + log);

        string nupkg = Path.Combine(output, $"StatsHandler.{_version}.nupkg");
        string snupkg = Path.Combine(output, $"StatsHandler.{_version}.snupkg");
        File.Exists(nupkg).Should().BeTrue($"pack should write {nupkg}:\n{log}");
        File.Exists(snupkg).Should().BeTrue($"pack should write {snupkg}:\n{log}");
        _package = ReadZip(nupkg);
        _symbols = ReadZip(snupkg);

        var nuspec = XDocument.Load(new MemoryStream(_package["StatsHandler.nuspec"]));
        _ns = nuspec.Root!.Name.Namespace;
        _metadata = nuspec.Root.Element(_ns + "metadata")!;
    }

    [OneTimeTearDown]
    public void Remove_the_pack_folder()
    {
        if (_work is null || !Directory.Exists(_work))
        {
            return;
        }

        Directory.Delete(_work, recursive: true);
        string parent = Path.GetDirectoryName(_work)!;
        if (!Directory.EnumerateFileSystemEntries(parent).Any())
        {
            try
            {
                Directory.Delete(parent);
            }
            catch (IOException)
            {
                // Another run created its folder there in the meantime: it removes the parent itself.
            }
        }
    }

    [Test]
    public void Package_id_is_StatsHandler_and_its_version_is_the_one_in_Directory_Build_props()
    {
        Meta("id").Should().Be("StatsHandler");
        Meta("version").Should().Be(_version);
        _package.Keys.Should().Contain($"lib/net10.0/StatsHandler.dll");
        InformationalVersion().Should().StartWith(_version + "+", "the assembly carries the same version plus the commit");
    }

    [Test]
    public void Package_has_a_description_tags_and_the_project_url()
    {
        Meta("description").Should().Contain("runtime statistics").And.Contain("no dependency");
        Meta("tags").Split(' ').Should().Contain(["stats", "metrics", "runtime", "diagnostics"]);
        Meta("projectUrl").Should().Be(ReleaseRepositoryUrl);
        Meta("authors").Should().NotBeNullOrWhiteSpace();
    }

    [Test]
    public void Package_licence_is_the_Apache_2_0_expression()
    {
        XElement license = _metadata.Element(_ns + "license")!;
        license.Should().NotBeNull();
        license.Attribute("type")!.Value.Should().Be("expression");
        license.Value.Should().Be("Apache-2.0");
        _package.Keys.Should().Contain("NOTICE", "Apache-2.0 asks redistributions to carry the NOTICE file");
    }

    [Test]
    public void Package_carries_its_own_readme_written_for_a_package_page()
    {
        Meta("readme").Should().Be("README.md");
        _package.Should().ContainKey("README.md");
        string expected = File.ReadAllText(Path.Combine(Repository.Root, "docs", "package", "StatsHandler.md")).ReplaceLineEndings("\n");
        string packed = System.Text.Encoding.UTF8.GetString(_package["README.md"]).ReplaceLineEndings("\n");
        packed.Should().Be(expected);

        // A package page resolves no relative path: every link and image must be absolute (or an in-page anchor).
        string[] targets = System.Text.RegularExpressions.Regex.Matches(packed, @"\]\(([^)\s]+)\)|<img[^>]*\ssrc=""([^""]+)""")
            .Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value)
            .ToArray();
        targets.Should().NotBeEmpty().And.OnlyContain(t => t.StartsWith("https://", StringComparison.Ordinal) || t.StartsWith('#'));
    }

    [Test]
    public void Package_carries_the_xml_docs_beside_the_assembly()
    {
        _package.Should().ContainKey("lib/net10.0/StatsHandler.xml");
        var docs = XDocument.Load(new MemoryStream(_package["lib/net10.0/StatsHandler.xml"]));
        docs.Descendants("member").Select(m => m.Attribute("name")!.Value)
            .Should().Contain("T:StatsHandler.StatsServer").And.Contain(name => name.StartsWith("M:StatsHandler.StatsServer.StartAsync", StringComparison.Ordinal));
    }

    [Test]
    public void Nuspec_lists_no_dependency()
    {
        XElement? dependencies = _metadata.Element(_ns + "dependencies");
        dependencies?.Descendants(_ns + "dependency").Should().BeEmpty("StatsHandler promises zero dependencies");
        dependencies?.Elements(_ns + "group").Select(g => g.Attribute("targetFramework")?.Value).Should().Equal("net10.0");
        _metadata.Element(_ns + "frameworkReferences").Should().BeNull("no ASP.NET or other shared framework either");
    }

    [Test]
    public void Nuspec_names_the_repository_and_the_commit_it_was_built_from()
    {
        XElement repository = _metadata.Element(_ns + "repository")!;
        repository.Should().NotBeNull();
        repository.Attribute("type")!.Value.Should().Be("git");
        repository.Attribute("url")!.Value.Should().Be(ReleaseRepositoryUrl);
        repository.Attribute("commit")!.Value.Should().Be(_commit);
    }

    [Test]
    public void Symbol_package_holds_the_portable_pdb_that_matches_the_packed_assembly()
    {
        _symbols.Keys.Should().Contain("lib/net10.0/StatsHandler.pdb");
        _package.Keys.Should().NotContain(k => k.EndsWith(".pdb", StringComparison.Ordinal), "symbols go to the .snupkg");

        using var pe = new PEReader(new MemoryStream(_package["lib/net10.0/StatsHandler.dll"]));
        DebugDirectoryEntry codeView = pe.ReadDebugDirectory().Single(e => e.Type == DebugDirectoryEntryType.CodeView);
        CodeViewDebugDirectoryData data = pe.ReadCodeViewDebugDirectoryData(codeView);
        using MetadataReaderProvider pdb = OpenPdb();
        var pdbId = new BlobContentId(pdb.GetMetadataReader().DebugMetadataHeader!.Id);
        pdbId.Guid.Should().Be(data.Guid, "the pdb must be the one the assembly points to");
    }

    [Test]
    public void Assembly_is_deterministic_and_built_as_a_ci_build()
    {
        using var pe = new PEReader(new MemoryStream(_package["lib/net10.0/StatsHandler.dll"]));
        pe.ReadDebugDirectory().Select(e => e.Type).Should().Contain(DebugDirectoryEntryType.Reproducible, "Deterministic=true");

        // ContinuousIntegrationBuild maps the checkout to /_/, so no machine path leaks into the pdb.
        using MetadataReaderProvider pdb = OpenPdb();
        MetadataReader reader = pdb.GetMetadataReader();
        string[] documents = reader.Documents.Select(h => reader.GetString(reader.GetDocument(h).Name)).ToArray();
        documents.Should().Contain("/_/StatsHandler/Server/StatsServer.cs");
        documents.Should().OnlyContain(d => d.StartsWith("/_/", StringComparison.Ordinal));
    }

    [Test]
    public void Pdb_has_a_SourceLink_map_to_the_repository_at_the_built_commit()
    {
        using MetadataReaderProvider pdb = OpenPdb();
        MetadataReader reader = pdb.GetMetadataReader();
        BlobHandle blob = reader.CustomDebugInformation
            .Select(reader.GetCustomDebugInformation)
            .Where(c => reader.GetGuid(c.Kind) == SourceLinkKind)
            .Select(c => c.Value)
            .SingleOrDefault();
        blob.IsNil.Should().BeFalse("the pdb must carry SourceLink");

        using var json = JsonDocument.Parse(reader.GetBlobBytes(blob));
        var map = json.RootElement.GetProperty("documents").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        map.Should().ContainKey("/_/*").WhoseValue
            .Should().Be($"https://raw.githubusercontent.com/example-owner/statshandler/{_commit}/*");
    }

    [Test]
    public void Pdb_embeds_the_generated_sources_that_git_does_not_track()
    {
        using MetadataReaderProvider pdb = OpenPdb();
        MetadataReader reader = pdb.GetMetadataReader();
        string[] embedded = reader.CustomDebugInformation
            .Select(reader.GetCustomDebugInformation)
            .Where(c => reader.GetGuid(c.Kind) == EmbeddedSourceKind && c.Parent.Kind == HandleKind.Document)
            .Select(c => reader.GetString(reader.GetDocument((DocumentHandle)c.Parent).Name))
            .ToArray();
        embedded.Should().Contain(d => d.EndsWith("StatsHandler.AssemblyInfo.cs", StringComparison.Ordinal), "EmbedUntrackedSources");
        embedded.Should().NotContain(d => d.EndsWith("StatsServer.cs", StringComparison.Ordinal), "tracked files are fetched through SourceLink");
    }

    private string Meta(string name) => _metadata.Element(_ns + name)?.Value ?? throw new AssertionException($"The nuspec has no <{name}>.");

    private string InformationalVersion()
    {
        using var pe = new PEReader(new MemoryStream(_package["lib/net10.0/StatsHandler.dll"]));
        MetadataReader reader = pe.GetMetadataReader();
        foreach (CustomAttributeHandle handle in reader.GetAssemblyDefinition().GetCustomAttributes())
        {
            CustomAttribute attribute = reader.GetCustomAttribute(handle);
            var ctor = reader.GetMemberReference((MemberReferenceHandle)attribute.Constructor);
            var type = reader.GetTypeReference((TypeReferenceHandle)ctor.Parent);
            if (reader.GetString(type.Name) == "AssemblyInformationalVersionAttribute")
            {
                BlobReader value = reader.GetBlobReader(attribute.Value);
                value.ReadUInt16();
                return value.ReadSerializedString()!;
            }
        }

        throw new AssertionException("The assembly has no AssemblyInformationalVersion.");
    }

    private MetadataReaderProvider OpenPdb() =>
        MetadataReaderProvider.FromPortablePdbImage(System.Collections.Immutable.ImmutableArray.Create(_symbols["lib/net10.0/StatsHandler.pdb"]));

    private static Dictionary<string, byte[]> ReadZip(string path)
    {
        using ZipArchive zip = ZipFile.OpenRead(path);
        return zip.Entries.ToDictionary(
            e => Uri.UnescapeDataString(e.FullName),
            e =>
            {
                using Stream stream = e.Open();
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                return copy.ToArray();
            });
    }
}
