namespace Man.Cli.Tests;

/// <summary>Runs the man-vision command in-process and captures what it prints.</summary>
internal static class CliRunner
{
    private static readonly object Gate = new();

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        lock (Gate)
        {
            var stdout = Console.Out;
            var stderr = Console.Error;
            // Read Spectre's static console before redirecting: created lazily here, it would bind to the StringWriter
            // below and every later test writing through it would hit a closed writer.
            var ansi = Spectre.Console.AnsiConsole.Console;
            using var o = new StringWriter();
            using var e = new StringWriter();
            Console.SetOut(o);
            Console.SetError(e);
            Spectre.Console.AnsiConsole.Console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
            {
                Out = new Spectre.Console.AnsiConsoleOutput(o),
                Ansi = Spectre.Console.AnsiSupport.No,
                ColorSystem = Spectre.Console.ColorSystemSupport.NoColors,
            });
            try
            {
                int code = Program.BuildRoot().Parse(args).Invoke();
                return (code, o.ToString(), e.ToString());
            }
            finally
            {
                Console.SetOut(stdout);
                Console.SetError(stderr);
                Spectre.Console.AnsiConsole.Console = ansi;
            }
        }
    }
}
