using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace StatsHandler.Hosting.Tests.Support;

/// <summary>
/// Compiles a documentation block with Roslyn as a program of its own, against the library, the hosting package and
/// the Microsoft.Extensions assemblies a worker has; and emits one into this test's output folder to run it.
/// </summary>
internal static class SnippetCompiler
{
    // The implicit usings of Microsoft.NET.Sdk (a console app) and of Microsoft.NET.Sdk.Worker on top.
    private const string ConsoleUsings =
        "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; " +
        "global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;";

    private const string WorkerUsings =
        " global using Microsoft.Extensions.Configuration; global using Microsoft.Extensions.DependencyInjection; " +
        "global using Microsoft.Extensions.Hosting; global using Microsoft.Extensions.Logging;";

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(LoadReferences);

    /// <summary>The compiler's errors for <paramref name="snippet"/>, each with the line it points at.</summary>
    public static IEnumerable<string> Errors(Snippet snippet)
    {
        (CSharpCompilation compilation, string source) = Create(snippet, "Snippet");
        return compilation.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(d => $"{d.Id} {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)} in: {LineOf(d, source)}");
    }

    /// <summary>
    /// Writes <paramref name="snippet"/> as <c>name.dll</c> with its runtimeconfig beside this test's assemblies (so
    /// the library and every Microsoft.Extensions assembly load app-locally) and returns its path, for
    /// <c>dotnet exec</c>. Fails the test with the compiler's errors if it does not build.
    /// </summary>
    public static string Emit(Snippet snippet, string name)
    {
        (CSharpCompilation compilation, _) = Create(snippet, name);
        string dll = Path.Combine(AppContext.BaseDirectory, name + ".dll");
        using (FileStream output = File.Create(dll))
        {
            Microsoft.CodeAnalysis.Emit.EmitResult result = compilation.Emit(output);
            result.Success.Should().BeTrue(string.Join(Environment.NewLine, result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        }

        File.WriteAllText(
            Path.Combine(AppContext.BaseDirectory, name + ".runtimeconfig.json"),
            $$"""{ "runtimeOptions": { "tfm": "net10.0", "framework": { "name": "Microsoft.NETCore.App", "version": "{{Environment.Version.ToString(3)}}" } } }""");
        return dll;
    }

    private static (CSharpCompilation Compilation, string Source) Create(Snippet snippet, string assemblyName)
    {
        string[] lines = snippet.Code.Split('\n');
        string[] usings = lines.TakeWhile(l => l.StartsWith("using ", StringComparison.Ordinal) && !l.Contains('(', StringComparison.Ordinal) && !l.Contains('=', StringComparison.Ordinal) || l.Trim().Length == 0).ToArray();
        bool complete = usings.Any(l => l.Trim().Length > 0);
        // A preamble that declares a type (the template's Worker class) goes after the block: C# wants types after
        // top-level statements.
        ILookup<bool, string> preamble = snippet.Preamble.ToLookup(IsTypeDeclaration);
        string source = string.Join('\n', usings) + "\n" +
            (complete ? string.Empty : "using StatsHandler;\n") +
            string.Join('\n', preamble[false]) + "\n" +
            string.Join('\n', lines[usings.Length..]) + "\n" +
            string.Join('\n', preamble[true]);

        CSharpParseOptions parse = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest);
        SyntaxTree[] trees =
        [
            CSharpSyntaxTree.ParseText(ConsoleUsings + (snippet.Worker ? WorkerUsings : string.Empty), parse, "GlobalUsings.g.cs"),
            CSharpSyntaxTree.ParseText(source, parse, snippet.ToString()),
        ];
        var compilation = CSharpCompilation.Create(
            assemblyName,
            trees,
            References.Value,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        return (compilation, source);
    }

    private static bool IsTypeDeclaration(string line) =>
        line.StartsWith("class ", StringComparison.Ordinal) || line.StartsWith("sealed class ", StringComparison.Ordinal)
        || line.StartsWith("record ", StringComparison.Ordinal);

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

        foreach (string path in Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll").Where(p => !Path.GetFileName(p).StartsWith("snippet-", StringComparison.Ordinal)))
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
