namespace Man.Vision.Data.Diagnostics;

/// <summary>
/// An input file (image, archive, annotation) that cannot be used: the message names the file, where in it
/// (entry, field, line) when known, and the problem.
/// </summary>
public class BadInputException : IOException
{
    /// <summary>Creates the exception; <paramref name="kind"/> is a short stable key such as <c>"truncated-image"</c>.</summary>
    public BadInputException(string kind, string file, string problem, Exception? inner = null)
        : base($"{file}: {problem}", inner)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        Kind = kind;
        File = file;
        Problem = problem;
    }

    /// <summary>A short stable key of the kind of problem (the key a <see cref="BadInputLog"/> counts skips by).</summary>
    public string Kind { get; }

    /// <summary>The file (or <c>archive!entry</c>) the problem is in.</summary>
    public string File { get; }

    /// <summary>The problem, without the file name.</summary>
    public string Problem { get; }
}
