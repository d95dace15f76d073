using System.CommandLine;
using Man.Vision.Backbones.Weights;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using static TorchSharp.torch;

namespace Man.Cli.Commands;

/// <summary><c>man-vision weights inspect</c> and <c>man-vision weights convert</c>.</summary>
public static class WeightsCommands
{
    /// <summary>The weights command group.</summary>
    public static Command Create()
    {
        var weights = new Command("weights", "Weights files (.pth zip, .safetensors): list tensors, convert between formats.");
        weights.Subcommands.Add(Inspect());
        weights.Subcommands.Add(Convert());
        return weights;
    }

    /// <summary><c>weights inspect PATH [--json OUT]</c>.</summary>
    public static Command Inspect()
    {
        var path = new Argument<string>("PATH") { Description = "A .pth/.pt/.bin (torch.save zip) or .safetensors file." };
        var json = new Option<string?>("--json") { Description = "Also write the listing as json here." };
        var cmd = new Command("inspect", "List the tensors of a weights file: names, shapes, dtypes, totals and the ResNet architecture they describe.") { path, json };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var summary = WeightsInspector.Inspect(r.GetValue(path)!);
            Console.Out.Write(summary.ToText());
            if (r.GetValue(json) is string jsonPath)
            {
                File.WriteAllText(jsonPath, ToJson(summary).ToString(Formatting.Indented));
                Console.Out.WriteLine($"json: {Path.GetFullPath(jsonPath)}");
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary><c>weights convert IN OUT</c>: .pth ↔ .safetensors (the output format follows OUT's extension).</summary>
    public static Command Convert()
    {
        var input = new Argument<string>("IN") { Description = "The weights file to read (.pth zip or .safetensors; nested checkpoints are unwrapped)." };
        var output = new Argument<string>("OUT") { Description = "The file to write: .safetensors, or anything else for a torch.save zip (.pth)." };
        var force = new Option<bool>("--force") { Description = "Overwrite OUT when it exists." };
        var cmd = new Command("convert", "Convert a state dict between .pth (torch.save zip) and .safetensors, bit for bit; the copy is read back and compared.")
        { input, output, force };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            string from = r.GetValue(input)!, to = r.GetValue(output)!;
            if (Path.GetFullPath(from) == Path.GetFullPath(to)) throw new ArgumentException($"IN and OUT are the same file ({from}); give another OUT.");
            if (File.Exists(to) && !r.GetValue(force)) throw new ArgumentException($"{to} exists; add --force to overwrite it.");
            using var scope = NewDisposeScope();
            using var file = WeightsReader.Read(from);
            var format = WeightsWriter.FormatOf(to);
            WeightsWriter.Save(file.Names.Select(n => (n, file.Tensors[n])), to, format);
            foreach (var note in file.Notes) Console.Out.WriteLine($"note: {note}");
            using var back = WeightsReader.Read(to);
            foreach (var n in file.Names)
            {
                if (!back.Tensors.TryGetValue(n, out var t) || t.dtype != file.Tensors[n].dtype || !t.shape.SequenceEqual(file.Tensors[n].shape) || !t.contiguous().bytes.SequenceEqual(file.Tensors[n].contiguous().bytes))
                    throw new InvalidOperationException($"Verification failed: tensor '{n}' of {to} differs from {from}.");
            }
            long elements = file.Names.Sum(n => file.Tensors[n].numel());
            Console.Out.WriteLine($"{from} ({file.Format}) -> {to} ({format}): {file.Names.Count} tensors, {elements:N0} elements, read back and identical");
            return 0;
        }));
        return cmd;
    }

    /// <summary>A weights summary as json: format, architecture, notes, tensors with shape and dtype, totals.</summary>
    public static JObject ToJson(WeightsSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return new JObject
        {
            ["path"] = Path.GetFullPath(summary.Path),
            ["format"] = summary.Format.ToString(),
            ["architecture"] = summary.Architecture,
            ["notes"] = new JArray(summary.Notes),
            ["tensor_count"] = summary.Tensors.Count,
            ["total_elements"] = summary.TotalElements,
            ["tensors"] = new JArray(summary.Tensors.Select(t => new JObject
            {
                ["name"] = t.Name, ["shape"] = new JArray(t.Shape), ["dtype"] = ShapeFormat.DType(t.DType),
            })),
        };
    }
}
