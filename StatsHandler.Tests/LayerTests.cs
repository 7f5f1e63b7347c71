using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using StatsHandler.Tests.Support;

namespace StatsHandler.Tests;

/// <summary>
/// The library's folders are rooms, and one namespace spans them, so nothing but this test keeps the layers apart. The
/// allowed graph is written once, in docs/architecture.md's table; the test compiles the library's sources with Roslyn
/// and checks every name a file uses against it: a type or member declared in a room the file's room may not use fails.
/// </summary>
public class LayerTests
{
    private const string Root = "(root)";

    private static readonly Lazy<CSharpCompilation> Library = new(() => Compile(LibrarySources()));

    [Test]
    public void Every_reference_between_rooms_follows_the_graph_in_architecture_md()
    {
        Dictionary<string, HashSet<string>> allowed = AllowedGraph();

        List<Edge> edges = Edges(Library.Value).ToList();
        string[] violations = edges.Where(e => !allowed.TryGetValue(e.From, out HashSet<string>? uses) || !uses.Contains(e.To))
            .Select(e => e.ToString()).Distinct().ToArray();

        string[] used = edges.Select(e => $"{e.From} -> {e.To}").Distinct().Order(StringComparer.Ordinal).ToArray();
        TestContext.Out.WriteLine($"{used.Length} room-to-room edges in use across {Library.Value.SyntaxTrees.Length} files: {string.Join(", ", used)}");
        Library.Value.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Should().BeEmpty("the test must compile the library as the build does");
        violations.Should().BeEmpty("a room may use only the rooms docs/architecture.md lists beside it; move the code, or change the graph there deliberately");
    }

    [Test]
    public void Every_room_of_the_library_is_in_the_graph_and_nothing_lives_at_the_root()
    {
        Dictionary<string, HashSet<string>> allowed = AllowedGraph();

        string[] rooms = LibrarySources().Select(s => RoomOf(s.Path)).Distinct().ToArray();

        rooms.Should().NotContain(Root, "every file belongs in a room");
        rooms.Should().BeSubsetOf(allowed.Keys, "a new folder needs its row, with what it may use, in docs/architecture.md");
        allowed.Values.SelectMany(v => v).Should().BeSubsetOf(allowed.Keys, "a room may only use rooms the table lists");
    }

    [Test]
    public void The_allowed_graph_has_no_cycle()
    {
        Dictionary<string, HashSet<string>> allowed = AllowedGraph();
        var done = new HashSet<string>();
        var path = new List<string>();

        string? cycle = allowed.Keys.Select(room => FindCycle(room, allowed, done, path)).FirstOrDefault(c => c is not null);

        cycle.Should().BeNull("rooms depend one way, so each can be read (and changed) knowing only those below it");
    }

    [Test]
    public void A_new_edge_the_graph_does_not_allow_is_caught()
    {
        // The check must be able to fail: a runtime probe that formats Prometheus text, a model object that caches a
        // format's bytes, and the capture reaching for a handler are each reported with the name that crossed.
        (string Path, string Text)[] sources =
        [
            .. LibrarySources(),
            ("StatsHandler/Runtime/BadProbe.cs", "namespace StatsHandler; internal static class BadProbe { public static int Size() => new PrometheusBuffer(1).Length; }"),
            ("StatsHandler/Metrics/BadSeries.cs", "namespace StatsHandler; internal sealed class BadSeries { public JsonStatsWriter? Cache { get; set; } }"),
            ("StatsHandler/Capture/BadCapture.cs", "namespace StatsHandler; internal static class BadCapture { public static object Make() => new RuntimeStatsHandler(); }"),
        ];

        string[] violations = Edges(Compile(sources))
            .Where(e => !AllowedGraph().TryGetValue(e.From, out HashSet<string>? uses) || !uses.Contains(e.To))
            .Select(e => e.ToString()).ToArray();

        violations.Should().Contain(v => v.Contains("Runtime/ -> Prometheus/", StringComparison.Ordinal) && v.Contains("PrometheusBuffer", StringComparison.Ordinal));
        violations.Should().Contain(v => v.Contains("Metrics/ -> Json/", StringComparison.Ordinal) && v.Contains("JsonStatsWriter", StringComparison.Ordinal));
        violations.Should().Contain(v => v.Contains("Capture/ -> Handlers/", StringComparison.Ordinal) && v.Contains("RuntimeStatsHandler", StringComparison.Ordinal));
    }

    /// <summary>The table in docs/architecture.md: each room's name (first column) and the rooms it may use (last column).</summary>
    private static Dictionary<string, HashSet<string>> AllowedGraph()
    {
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(Path.Combine(Repository.Root, "docs", "architecture.md")))
        {
            string[] cells = line.Split('|', StringSplitOptions.TrimEntries);
            if (cells.Length < 4 || !Regex.IsMatch(cells[1], @"^`\w+/`$"))
            {
                continue;
            }

            string room = cells[1].Trim('`');
            graph[room] = [.. Regex.Matches(cells[^2], @"`(\w+/)`").Select(m => m.Groups[1].Value)];
        }

        graph.Should().NotBeEmpty("docs/architecture.md holds the table of rooms");
        return graph;
    }

    private static string? FindCycle(string room, Dictionary<string, HashSet<string>> graph, HashSet<string> done, List<string> path)
    {
        if (path.Contains(room))
        {
            return string.Join(" -> ", path.SkipWhile(r => r != room).Append(room));
        }

        if (!done.Add(room))
        {
            return null;
        }

        path.Add(room);
        string? cycle = graph.GetValueOrDefault(room, []).Select(next => FindCycle(next, graph, done, path)).FirstOrDefault(c => c is not null);
        path.RemoveAt(path.Count - 1);
        return cycle;
    }

    private static (string Path, string Text)[] LibrarySources()
    {
        string library = Path.Combine(Repository.Root, "StatsHandler");
        return Directory.EnumerateFiles(library, "*.cs", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Repository.Root, p).Replace('\\', '/'))
            .Where(p => !p.StartsWith("StatsHandler/obj/", StringComparison.Ordinal) && !p.StartsWith("StatsHandler/bin/", StringComparison.Ordinal))
            .Select(p => (p, File.ReadAllText(Path.Combine(Repository.Root, p))))
            .ToArray();
    }

    /// <summary>The room of a file: its first folder under StatsHandler/, as <c>Capture/</c>.</summary>
    private static string RoomOf(string path)
    {
        string[] parts = path.Split('/');
        return parts.Length > 2 ? parts[1] + "/" : Root;
    }

    private static CSharpCompilation Compile((string Path, string Text)[] sources)
    {
        // The library's implicit usings, as the SDK generates them for it.
        const string ImplicitUsings = "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; " +
            "global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;";
        var options = new CSharpParseOptions(LanguageVersion.Preview);
        SyntaxTree[] trees =
        [
            CSharpSyntaxTree.ParseText(ImplicitUsings, options, "GlobalUsings.g.cs"),
            .. sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, options, s.Path)),
        ];
        string frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        MetadataReference[] references = Directory.EnumerateFiles(frameworkDirectory, "*.dll")
            .Where(IsManaged).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
        return CSharpCompilation.Create(
            "StatsHandler",
            trees,
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));
    }

    private static bool IsManaged(string path)
    {
        using FileStream stream = File.OpenRead(path);
        using var reader = new System.Reflection.PortableExecutable.PEReader(stream);
        return reader.HasMetadata;
    }

    /// <summary>Every use, in a file of one room, of a type or member declared in another room.</summary>
    private static IEnumerable<Edge> Edges(Compilation compilation)
    {
        foreach (SyntaxTree tree in compilation.SyntaxTrees.Where(t => t.FilePath.StartsWith("StatsHandler/", StringComparison.Ordinal)))
        {
            string from = RoomOf(tree.FilePath);
            SemanticModel model = compilation.GetSemanticModel(tree);
            foreach (SimpleNameSyntax name in tree.GetRoot().DescendantNodes().OfType<SimpleNameSyntax>())
            {
                SymbolInfo info = model.GetSymbolInfo(name);
                ISymbol? symbol = info.Symbol ?? info.CandidateSymbols.FirstOrDefault();
                if (symbol is null or ILocalSymbol or IParameterSymbol or IRangeVariableSymbol or ITypeParameterSymbol or INamespaceSymbol or ILabelSymbol)
                {
                    continue;
                }

                if (HomeOf(symbol) is { } to && to != from)
                {
                    int line = name.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
                    yield return new Edge(from, to, $"{tree.FilePath}:{line}", symbol.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat));
                }
            }
        }
    }

    /// <summary>
    /// The room that declares <paramref name="symbol"/>, or null for one outside the library. A member's room is the file
    /// that declares it (a partial type's members may live in different rooms); a type's is the file named after it.
    /// </summary>
    private static string? HomeOf(ISymbol symbol)
    {
        symbol = symbol is IMethodSymbol { ReducedFrom: { } extension } ? extension : symbol.OriginalDefinition;
        Location[] locations = symbol.Locations.Where(l => l.IsInSource && l.SourceTree!.FilePath.StartsWith("StatsHandler/", StringComparison.Ordinal)).ToArray();
        if (locations.Length == 0)
        {
            return null;
        }

        Location home = symbol is INamedTypeSymbol type
            ? locations.FirstOrDefault(l => Path.GetFileNameWithoutExtension(l.SourceTree!.FilePath) == type.Name) ?? locations[0]
            : locations[0];
        return RoomOf(home.SourceTree!.FilePath);
    }

    private sealed record Edge(string From, string To, string Where, string Symbol)
    {
        public override string ToString() => $"{From} -> {To}: {Where} uses {Symbol}";
    }
}
