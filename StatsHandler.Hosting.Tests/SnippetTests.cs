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

    private static IEnumerable<string> Compile(Snippet snippet) => SnippetCompiler.Errors(snippet);
}
