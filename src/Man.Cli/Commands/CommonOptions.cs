using System.CommandLine;
using Man.Runtime;
using static TorchSharp.torch;

namespace Man.Cli.Commands;

/// <summary>Options every compute command takes: --device, --threads, --workers.</summary>
public sealed class CommonOptions
{
    private readonly Option<string> device = new("--device") { Description = "auto | cpu | cuda | cuda:N", DefaultValueFactory = _ => "auto" };
    private readonly Option<int> threads = new("--threads") { Description = "Torch intra-op threads (0 = torch's default).", DefaultValueFactory = _ => 0 };
    private readonly Option<int> workers = new("--workers") { Description = "Data loading threads.", DefaultValueFactory = _ => 2 };

    /// <summary>Creates the option set.</summary>
    public static CommonOptions Create() => new();

    /// <summary>Adds the options to a command.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(device);
        command.Options.Add(threads);
        command.Options.Add(workers);
    }

    /// <summary>Applies --threads and resolves --device.</summary>
    public Device Apply(ParseResult r)
    {
        Devices.SetThreads(r.GetValue(threads));
        return Devices.Resolve(r.GetValue(device)!);
    }

    /// <summary>
    /// The --clip-grad-norm option of the train commands (the three tasks' options validate it with
    /// <c>TrainerOptions.CheckMaxGradNorm</c>); <paramref name="note"/> is added to the description.
    /// </summary>
    public static Option<double?> ClipGradNorm(string note = "") => new("--clip-grad-norm")
    {
        Description = "Clip each local block's gradients (all of them under e2e) to this total 2-norm before the optimizer step ("
            + (note.Length > 0 ? note + "; " : "") + "default: none).",
    };

    /// <summary>The --workers value.</summary>
    public int Workers(ParseResult r) => Math.Max(1, r.GetValue(workers));
}
