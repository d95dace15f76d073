using System.CommandLine;
using Man.Runtime;
using Spectre.Console;
using TorchSharp;

namespace Man.Cli.Commands;

/// <summary><c>man-vision info</c>: versions, backend, device and threads.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var cmd = new Command("info", "Print versions, TorchSharp backend, devices and threads.");
        cmd.SetAction(_ =>
        {
            TorchRuntime.Verify();
            var table = new Table().AddColumn("item").AddColumn("value");
            table.AddRow("man-vision", Markup.Escape(BuildInfo.Version));
            table.AddRow(".NET", Markup.Escape(Environment.Version.ToString()));
            table.AddRow("TorchSharp", Markup.Escape(BuildInfo.TorchSharpVersion));
            table.AddRow("backend (build)", BuildInfo.TorchBackend);
            table.AddRow("native loading", Markup.Escape(TorchRuntime.Status));
            table.AddRow("NNPACK", Markup.Escape(TorchRuntime.Nnpack));
            TorchRuntime.GuardConvolutionGradients(); // before the oneDNN row: the check may turn it off
            table.AddRow("oneDNN", Markup.Escape(TorchRuntime.OneDnn));
            table.AddRow("convolution gradients", Markup.Escape(TorchRuntime.ConvolutionGuard));
            table.AddRow("oneDNN ISA", Markup.Escape(TorchRuntime.OneDnnIsa));
            table.AddRow("CUDA available", torch.cuda.is_available() ? $"yes ({torch.cuda.device_count()} devices)" : "no");
            table.AddRow("default device (--device auto)", Devices.Resolve("auto").ToString());
            table.AddRow("torch threads", torch.get_num_threads().ToString());
            table.AddRow("allocator (MAN_MALLOC=lean|trim|default)", Markup.Escape(Man.Runtime.Memory.AllocatorPolicy));
            table.AddRow("logical cores", Environment.ProcessorCount.ToString());
            AnsiConsole.Write(table);
            return 0;
        });
        return cmd;
    }
}
