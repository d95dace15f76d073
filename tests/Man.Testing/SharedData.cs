using Xunit;

namespace Man.Testing;

/// <summary>
/// Finds <c>../shared/data</c> and <c>../shared/fixtures</c> (or the folders named by <c>MAN_DATA</c> and
/// <c>MAN_FIXTURES</c>) from the test's working directory upwards.
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string?> DataRoot = new(() => Find("MAN_DATA", "data"));
    private static readonly Lazy<string?> FixtureRoot = new(() => Find("MAN_FIXTURES", "fixtures"));

    /// <summary>The data folder, or null when it is absent.</summary>
    public static string? Root => DataRoot.Value;

    /// <summary>The fixtures folder, or null when it is absent.</summary>
    public static string? Fixtures => FixtureRoot.Value;

    /// <summary>True under CI (environment CI=true), where missing shared data is a failure.</summary>
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The path of an entry of the shared data folder; fails with a clear message when absent.</summary>
    public static string Path(string relative) => Resolve(Root, "MAN_DATA", "data", relative);

    /// <summary>The path of an entry of the shared fixtures folder; fails with a clear message when absent.</summary>
    public static string Fixture(string relative) => Resolve(Fixtures, "MAN_FIXTURES", "fixtures", relative);

    private static string Resolve(string? root, string env, string name, string relative)
    {
        if (root is null)
            throw new InvalidOperationException(
                $"The shared {name} folder was not found: looked for ../shared/{name} above {Environment.CurrentDirectory} and for ${env}. " +
                $"Put the project beside shared/ or set {env}.");
        string p = System.IO.Path.Combine(root, relative);
        if (!File.Exists(p) && !Directory.Exists(p))
            throw new FileNotFoundException($"The shared {name} entry '{relative}' is missing from {root}.", p);
        return p;
    }

    private static string? Find(string env, string name)
    {
        string? fromEnv = Environment.GetEnvironmentVariable(env);
        if (!string.IsNullOrEmpty(fromEnv)) return Directory.Exists(fromEnv) ? fromEnv : null;
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            var dir = new DirectoryInfo(start);
            while (dir is not null)
            {
                string candidate = System.IO.Path.Combine(dir.FullName, "shared", name);
                if (Directory.Exists(candidate)) return candidate;
                candidate = System.IO.Path.Combine(dir.FullName, "..", "shared", name);
                if (Directory.Exists(candidate)) return System.IO.Path.GetFullPath(candidate);
                dir = dir.Parent;
            }
        }
        return null;
    }
}

/// <summary>
/// A fact that needs <c>../shared/data</c>: skipped with a message saying so when the folder is absent on a
/// developer machine, and run (so failing with that message) under CI=true.
/// </summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute()
    {
        if (SharedData.Root is null && !SharedData.InCi)
            Skip = "../shared/data is absent (set MAN_DATA to its folder); this test runs under CI=true and fails there without it.";
    }
}
