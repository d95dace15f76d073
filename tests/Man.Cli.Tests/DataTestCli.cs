using Man.Cli;

namespace Man.Cli.Tests;

/// <summary>Runs the command in-process and captures standard output and error.</summary>
internal static class DataTestCli
{
    /// <summary>Exit code, stdout and stderr of <c>man-vision ARGS</c> (see <see cref="CliRunner"/>).</summary>
    public static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    /// <summary>Text without any whitespace (error lines are wrapped at the console width).</summary>
    public static string Squeeze(string s) => string.Concat(s.Where(c => !char.IsWhiteSpace(c)));

    /// <summary>A fresh temporary folder.</summary>
    public static string TempDir(string prefix)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
