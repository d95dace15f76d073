using System.CommandLine;
using Man.Cli.Commands;

namespace Man.Cli;

/// <summary>Entry point of the <c>man-vision</c> command.</summary>
public static class Program
{
    /// <summary>Builds the command tree.</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("man-vision: train and evaluate classifiers, detectors and segmenters with end-to-end or MAN++ local learning.");
        root.Subcommands.Add(InfoCommand.Create());
        var train = new Command("train", "Train a model.");
        train.Subcommands.Add(ClassifyCommands.Train());
        train.Subcommands.Add(SegmentCommands.Train());
        train.Subcommands.Add(DetectCommands.Train());
        root.Subcommands.Add(train);
        var eval = new Command("eval", "Evaluate a model or a predictions file.");
        eval.Subcommands.Add(ClassifyCommands.Eval());
        eval.Subcommands.Add(SegmentCommands.Eval());
        eval.Subcommands.Add(DetectCommands.Eval());
        root.Subcommands.Add(eval);
        var predict = new Command("predict", "Run a model on images and write its predictions.");
        predict.Subcommands.Add(SegmentCommands.Predict());
        predict.Subcommands.Add(DetectCommands.Predict());
        root.Subcommands.Add(predict);
        root.Subcommands.Add(BenchCommands.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(DataCommands.Create());
        root.Subcommands.Add(WeightsCommands.Create());
        return root;
    }

    /// <summary>Runs the command line; returns the exit code.</summary>
    public static int Main(string[] args)
    {
        // MAN_MALLOC picks glibc's policy for the whole process: lean (the default) maps every large tensor on its own so
        // RSS follows the live working set; trim keeps glibc's faster heap and trims it after every block; default
        // leaves glibc alone (fastest, highest RSS). README "Training memory" has the measurements.
        switch (Environment.GetEnvironmentVariable("MAN_MALLOC"))
        {
            case "default": break;
            case "trim": Man.Runtime.Memory.TrimAtBlockBoundaries(); break;
            case null or "" or "lean": Man.Runtime.Memory.ReturnLargeBlocksToSystem(); break;
            case string other:
                Console.Error.WriteLine($"error: MAN_MALLOC={other} is not a policy; use lean (default), trim or default.");
                return 2;
        }
        // Redirected to a file or pipe, Spectre's console is 80 columns wide and wraps every wide table (report's per-epoch
        // curves, the per-block columns of train): use $COLUMNS when set, else 200.
        if (Console.IsOutputRedirected)
            Spectre.Console.AnsiConsole.Profile.Width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out int columns) && columns > 0 ? columns : 200;
        var parse = BuildRoot().Parse(args);
        return parse.Invoke();
    }
}
