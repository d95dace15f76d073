using System.Diagnostics;
using Man.Vision.Detection.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Models;

public sealed class ProfileScratch
{
    [Fact]
    public void Profile()
    {
        using var s = NewDisposeScope();
        var gen = new Generator(0);
        var f = torch.rand([2, 256, 100, 150], generator: gen);
        var xy = torch.rand([1000, 2], generator: gen) * 500; var wh = torch.rand([1000, 2], generator: gen) * 100 + 4;
        var rois = torch.cat([torch.randint(2, [1000, 1], generator: gen).to(ScalarType.Float32), xy, xy + wh], 1);
        for (int i = 0; i < 6; i++)
        {
            var proc = System.Diagnostics.Process.GetCurrentProcess();
            var c0 = proc.TotalProcessorTime;
            var o = RoiAlign.Apply(f, rois, 7, 7, 0.25, 2, false);
            proc.Refresh(); var c1 = proc.TotalProcessorTime;
            var fg = f.detach().requires_grad_(true);
            RoiAlign.Apply(fg, rois, 7, 7, 0.25, 2, false).sum().backward();
            proc.Refresh(); var c2 = proc.TotalProcessorTime;
            Console.WriteLine($"DBG roialign 1000 rois 256ch cpu fwd {(c1 - c0).TotalMilliseconds:F0} ms fwd+bwd {(c2 - c1).TotalMilliseconds:F0} ms");
        }
        for (int i = 0; i < 3; i++) Console.WriteLine($"DBG nms {NmsBenchmark.Run(5000, 0.5, 9):F2} ms");
    }
}
