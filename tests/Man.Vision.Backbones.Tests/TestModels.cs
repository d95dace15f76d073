using Man.Vision.Backbones.Norm;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Tests;

public static class TestModels
{
    /// <summary>Non-trivial BN affine parameters and statistics so that BN is really exercised.</summary>
    public static void RandomizeBatchNorm(nn.Module model, int seed)
    {
        var gen = new Generator((ulong)seed);
        using var _ = no_grad();
        foreach (var (_, m) in model.named_modules())
        {
            switch (m)
            {
                case BatchNorm2d bn:
                    long c = bn.weight!.shape[0];
                    bn.weight.copy_(rand(c, generator: gen) * 0.8 + 0.6);
                    bn.bias!.copy_(randn(c, generator: gen) * 0.1);
                    bn.running_mean!.copy_(randn(c, generator: gen) * 0.1);
                    bn.running_var!.copy_(rand(c, generator: gen) * 1.5 + 0.5);
                    break;
                case FrozenBatchNorm2d f:
                    long n = f.NumFeatures;
                    f.Weight.copy_(rand(n, generator: gen) * 0.8 + 0.6);
                    f.Bias.copy_(randn(n, generator: gen) * 0.1);
                    f.RunningMean.copy_(randn(n, generator: gen) * 0.1);
                    f.RunningVar.copy_(rand(n, generator: gen) * 1.5 + 0.5);
                    break;
            }
        }
    }

    public static string ShapeText(long[] shape) => string.Join("x", shape);

    public static string DTypeText(ScalarType t) => t switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Int64 => "int64",
        ScalarType.Float16 => "float16",
        _ => t.ToString(),
    };

    /// <summary>"name\tshape\tdtype" lines of a model's state dict, as make_fixtures.py writes them.</summary>
    public static List<string> KeyLines(nn.Module model) =>
        model.state_dict().Select(p => $"{p.Key}\t{ShapeText(p.Value.shape)}\t{DTypeText(p.Value.dtype)}").ToList();

    public static long ParameterCount(nn.Module model) => model.parameters().Sum(p => p.numel());
}
