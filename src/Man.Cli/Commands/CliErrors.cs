using Man.Local;
using Man.Local.Training;
using Spectre.Console;

namespace Man.Cli.Commands;

/// <summary>Turns the exceptions users cause into one clear line and an exit code.</summary>
public static class CliErrors
{
    /// <summary>Exit code for bad arguments or input.</summary>
    public const int BadInput = 2;

    /// <summary>Exit code for a training stopped by a NaN/∞ loss.</summary>
    public const int NonFiniteLoss = 3;

    /// <summary>Runs <paramref name="action"/>, printing known errors as messages rather than stack traces.</summary>
    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (NonFiniteLossException e)
        {
            Error(e.Message + " The last good checkpoint (last.ckpt) and metrics.json were kept.");
            return NonFiniteLoss;
        }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException
                                      or CheckpointException or InvalidOperationException or FormatException or IOException
                                      or UnauthorizedAccessException || e.GetType().Name.EndsWith("Exception", StringComparison.Ordinal) && e.GetType().Namespace?.StartsWith("Man.", StringComparison.Ordinal) == true)
        {
            Error(e.Message);
            if (Environment.GetEnvironmentVariable("MAN_DEBUG") == "1") Console.Error.WriteLine(e);
            return BadInput;
        }
        catch (OperationCanceledException)
        {
            Error("cancelled.");
            return 130;
        }
    }

    /// <summary>Prints an error line to standard error.</summary>
    public static void Error(string message)
    {
        var err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        // Never wrapped: file names in the message must stay whole for people and scripts.
        err.Profile.Width = Math.Max(err.Profile.Width, 100_000);
        err.MarkupLine("[red]error:[/] " + Markup.Escape(message));
    }
}
