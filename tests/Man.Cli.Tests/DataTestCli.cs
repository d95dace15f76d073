using Man.Cli;

namespace Man.Cli.Tests;

/// <summary>Runs the command in-process and captures standard output and error.</summary>
internal static class DataTestCli
{
    private static readonly object Gate = new();

    /// <summary>Exit code, stdout and stderr of <c>man-vision ARGS</c>.</summary>
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        lock (Gate)
        {
            var oldOut = Console.Out;
            var oldErr = Console.Error;
            using var o = new StringWriter();
            using var e = new StringWriter();
            Console.SetOut(o);
            Console.SetError(e);
            try
            {
                int code = Program.BuildRoot().Parse(args).Invoke();
                return (code, o.ToString(), e.ToString());
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldErr);
            }
        }
    }

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
