using System.Text.RegularExpressions;
using StatsHandler.Tests.Support;

namespace StatsHandler.Hosting.Tests.Support;

/// <summary>One <c>```csharp</c> block of a Markdown file, with what the comments just above it declare.</summary>
/// <param name="File">The file, relative to the repository root.</param>
/// <param name="Line">The 1-based line of the block's first code line.</param>
/// <param name="Code">The block's text.</param>
/// <param name="Preamble">Statements from <c>&lt;!-- preamble: ... --&gt;</c> comments: what the block assumes but does not show.</param>
/// <param name="Worker">True for <c>&lt;!-- snippet: worker --&gt;</c>: the block belongs in a worker project (its implicit usings).</param>
internal sealed record Snippet(string File, int Line, string Code, IReadOnlyList<string> Preamble, bool Worker)
{
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>Reads the documentation's C# blocks and relative links.</summary>
internal static partial class MarkdownSnippets
{
    private static readonly string[] TopLevelFiles = ["README.md", "CONTRIBUTING.md"];

    /// <summary>README.md, CONTRIBUTING.md, docs/**/*.md and the samples' READMEs, relative to the repository root.</summary>
    public static IEnumerable<string> DocumentationFiles()
    {
        string root = Repository.Root;
        IEnumerable<string> files = TopLevelFiles
            .Select(f => Path.Combine(root, f))
            .Where(File.Exists)
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories))
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "samples"), "README.md", SearchOption.AllDirectories));
        return files.Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Order(StringComparer.Ordinal);
    }

    public static IEnumerable<Snippet> Read(string file)
    {
        string[] lines = File.ReadAllLines(Path.Combine(Repository.Root, file));
        for (int i = 0; i < lines.Length; i++)
        {
            string fence = lines[i].Trim();
            if (fence is not ("```csharp" or "```cs" or "```c#"))
            {
                continue;
            }

            // The comments directly above the fence say what the block assumes.
            var preamble = new List<string>();
            bool worker = false;
            for (int j = i - 1; j >= 0 && lines[j].TrimStart().StartsWith("<!--", StringComparison.Ordinal); j--)
            {
                Match comment = DirectiveComment().Match(lines[j]);
                if (comment.Success && comment.Groups["name"].Value == "preamble")
                {
                    preamble.Insert(0, comment.Groups["value"].Value.Trim());
                }
                else if (comment.Success && comment.Groups["name"].Value == "snippet" && comment.Groups["value"].Value.Trim() == "worker")
                {
                    worker = true;
                }
            }

            int start = i + 1;
            int end = start;
            while (end < lines.Length && lines[end].Trim() != "```")
            {
                end++;
            }

            yield return new Snippet(file, start + 1, string.Join('\n', lines[start..end]), preamble, worker);
            i = end;
        }
    }

    /// <summary>Relative link targets (<c>[text](target)</c> and <c>src="target"</c>) outside code blocks, with their lines.</summary>
    public static IEnumerable<(int Line, string Target)> RelativeLinks(string file)
    {
        string[] lines = File.ReadAllLines(Path.Combine(Repository.Root, file));
        bool code = false;
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                code = !code;
                continue;
            }

            if (code)
            {
                continue;
            }

            foreach (Match link in Link().Matches(lines[i]))
            {
                string target = link.Groups["md"].Success ? link.Groups["md"].Value : link.Groups["src"].Value;
                if (!target.Contains("://", StringComparison.Ordinal) && !target.StartsWith('#') && !target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    yield return (i + 1, target);
                }
            }
        }
    }

    [GeneratedRegex(@"<!--\s*(?<name>preamble|snippet):(?<value>.*?)-->")]
    private static partial Regex DirectiveComment();

    [GeneratedRegex(@"\]\((?<md>[^)\s]+)\)|\ssrc=""(?<src>[^""]+)""")]
    private static partial Regex Link();
}
