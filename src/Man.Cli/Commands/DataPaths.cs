namespace Man.Cli.Commands;

/// <summary>Where the commands look for the small shared data sets when no path is given.</summary>
public static class DataPaths
{
    /// <summary>The environment variable naming the data folder.</summary>
    public const string EnvironmentVariable = "MAN_DATA";

    /// <summary>
    /// The data folder: <c>$MAN_DATA</c> when set, else <c>../shared/data</c> relative to the current directory
    /// (or to one of its parents); null when neither exists.
    /// </summary>
    public static string? Root()
    {
        string? env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(env)) return Directory.Exists(env) ? Path.GetFullPath(env) : null;
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data"));
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Where a data set was looked for, for messages: the folder under the data root or a hint.</summary>
    public static string Describe(string relative)
    {
        string? root = Root();
        return root is not null
            ? Path.Combine(root, relative)
            : $"../shared/data/{relative} (no ../shared/data above {Environment.CurrentDirectory}; ${EnvironmentVariable} {(Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } v ? $"= {v} does not exist" : "is not set")})";
    }
}
