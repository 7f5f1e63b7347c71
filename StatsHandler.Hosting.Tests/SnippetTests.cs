using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using StatsHandler.Hosting.Tests.Support;
using StatsHandler.Tests.Support;

namespace StatsHandler.Hosting.Tests;

/// <summary>
/// The documentation's examples cannot rot: every <c>```csharp</c> block of the README and docs/ is compiled with Roslyn
/// against the library and the hosting package, each as a program of its own. A block with <c>using</c> lines must
/// compile as pasted into a new project; a block without is a fragment and gets <c>using StatsHandler;</c>. Comments
/// above a block add what it assumes (<c>&lt;!-- preamble: var queue = ...; --&gt;</c>) or say it belongs in a worker
/// project (<c>&lt;!-- snippet: worker --&gt;</c>, the worker SDK's implicit usings).
/// </summary>
[NonParallelizable]
public class SnippetTests
{
    // The implicit usings of Microsoft.NET.Sdk (a console app) and of Microsoft.NET.Sdk.Worker on top.
    private const string ConsoleUsings =
        "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; " +
        "global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;";

    private const string WorkerUsings =
        " global using Microsoft.Extensions.Configuration; global using Microsoft.Extensions.DependencyInjection; " +
        "global using Microsoft.Extensions.Hosting; global using Microsoft.Extensions.Logging;";

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(LoadReferences);

    [Test]
    public void Every_csharp_block_in_the_documentation_compiles()
    {
        Snippet[] snippets = MarkdownSnippets.DocumentationFiles().SelectMany(MarkdownSnippets.Read).ToArray();
        var failures = new List<string>();
        foreach (Snippet snippet in snippets)
        {
            failures.AddRange(Compile(snippet).Select(error => $"{snippet}: {error}"));
        }

        TestContext.Out.WriteLine(
            $"Compiled {snippets.Length} csharp blocks from {snippets.Select(s => s.File).Distinct().Count()} files: " +
            string.Join(", ", snippets.GroupBy(s => s.File).Select(g => $"{g.Key} {g.Count()}")));
        snippets.Should().Contain(s => s.File == "README.md", "the README's examples are the first thing a user pastes");
        failures.Should().BeEmpty("every example must compile as documented; fix the example or declare what it assumes in a preamble comment");
    }

    [Test]
    public void A_block_that_uses_an_undeclared_name_is_reported()
    {
        var snippet = new Snippet("test.md", 1, "var server = new StatsServer(\"localhost:8080\").OnError(e => logger.LogError(e, \"failed\"));", [], Worker: false);

        Compile(snippet).Should().ContainSingle().Which.Should().Contain("CS0103").And.Contain("'logger'");
    }

    [Test]
    public void A_preamble_declares_what_a_block_assumes()
    {
        var snippet = new Snippet("test.md", 1, "server.Publish(\"queue_depth\", () => (long)queue.Count);", ["var queue = new Queue<int>();", "var server = new StatsServer(\"localhost:8080\");"], Worker: false);

        Compile(snippet).Should().BeEmpty();
    }

    [Test]
    public void Relative_links_in_the_documentation_point_at_files_that_exist()
    {
        var broken = new List<string>();
        foreach (string file in MarkdownSnippets.DocumentationFiles())
        {
            string folder = Path.GetDirectoryName(Path.Combine(Repository.Root, file))!;
            foreach ((int line, string target) in MarkdownSnippets.RelativeLinks(file))
            {
                string path = Path.GetFullPath(Path.Combine(folder, target.Split('#')[0]));
                if (!File.Exists(path) && !Directory.Exists(path))
                {
                    broken.Add($"{file}:{line}: {target}");
                }
            }
        }

        broken.Should().BeEmpty("a link must lead somewhere");
    }

    private static IEnumerable<string> Compile(Snippet snippet)
    {
        string[] lines = snippet.Code.Split('\n');
        string[] usings = lines.TakeWhile(l => l.StartsWith("using ", StringComparison.Ordinal) && !l.Contains('(', StringComparison.Ordinal) && !l.Contains('=', StringComparison.Ordinal) || l.Trim().Length == 0).ToArray();
        bool complete = usings.Any(l => l.Trim().Length > 0);
        string source = string.Join('\n', usings) + "\n" +
            (complete ? string.Empty : "using StatsHandler;\n") +
            string.Join('\n', snippet.Preamble) + "\n" +
            string.Join('\n', lines[usings.Length..]);

        CSharpParseOptions parse = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest);
        SyntaxTree[] trees =
        [
            CSharpSyntaxTree.ParseText(ConsoleUsings + (snippet.Worker ? WorkerUsings : string.Empty), parse, "GlobalUsings.g.cs"),
            CSharpSyntaxTree.ParseText(source, parse, snippet.ToString()),
        ];
        var compilation = CSharpCompilation.Create(
            "Snippet",
            trees,
            References.Value,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        return compilation.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(d => $"{d.Id} {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)} in: {LineOf(d, source)}");
    }

    private static string LineOf(Diagnostic diagnostic, string source)
    {
        int line = diagnostic.Location.GetLineSpan().StartLinePosition.Line;
        string[] lines = source.Split('\n');
        return line < lines.Length ? lines[line].Trim() : string.Empty;
    }

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        // The running framework, plus this test's output folder: StatsHandler, StatsHandler.Hosting and the
        // Microsoft.Extensions packages a worker project would have.
        var paths = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string path in ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator))
        {
            paths[Path.GetFileName(path)] = path;
        }

        foreach (string path in Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll"))
        {
            paths.TryAdd(Path.GetFileName(path), path);
        }

        return [.. paths.Values.Where(IsManaged).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    }

    private static bool IsManaged(string path)
    {
        using FileStream stream = File.OpenRead(path);
        using var reader = new System.Reflection.PortableExecutable.PEReader(stream);
        return reader.HasMetadata;
    }
}
