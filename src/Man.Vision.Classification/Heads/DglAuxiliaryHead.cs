using Man.Local;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Classification.Heads;

/// <summary>
/// The DGL-style auxiliary classifier of an early block: adaptive average pool to at most 8×8, three 1×1
/// convolutions of width 128 with BN and ReLU, global average pool, an MLP of width 512 and a linear classifier;
/// cross-entropy loss.
/// </summary>
public sealed class DglAuxiliaryHead : AuxiliaryHead<Tensor>
{
    private readonly Sequential convs;
    private readonly Sequential mlp;
    private readonly long pool;

    /// <summary>Creates the head for features of <paramref name="channels"/> channels.</summary>
    public DglAuxiliaryHead(long channels, long classes, long width = 128, long hidden = 512, long pool = 8) : base(nameof(DglAuxiliaryHead))
    {
        if (channels < 1 || classes < 2) throw new ArgumentException($"Need channels ≥ 1 and classes ≥ 2 (got {channels}, {classes}).");
        this.pool = pool;
        convs = nn.Sequential(
            ("0", nn.Conv2d(channels, width, 1, bias: false)), ("1", nn.BatchNorm2d(width)), ("2", nn.ReLU()),
            ("3", nn.Conv2d(width, width, 1, bias: false)), ("4", nn.BatchNorm2d(width)), ("5", nn.ReLU()),
            ("6", nn.Conv2d(width, width, 1, bias: false)), ("7", nn.BatchNorm2d(width)), ("8", nn.ReLU()));
        mlp = nn.Sequential(("0", nn.Linear(width, hidden)), ("1", nn.ReLU()), ("2", nn.Linear(hidden, classes)));
        RegisterComponents();
    }

    /// <summary>Class logits [N, classes] of features [N, C, H, W].</summary>
    public Tensor Logits(Tensor features)
    {
        using var scope = NewDisposeScope();
        var x = features;
        if (x.shape[2] > pool || x.shape[3] > pool)
            x = nn.functional.adaptive_avg_pool2d(x, [Math.Min(pool, x.shape[2]), Math.Min(pool, x.shape[3])]);
        x = convs.forward(x);
        x = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1);
        return mlp.forward(x).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor Loss(Tensor features, Tensor target)
    {
        using var scope = NewDisposeScope();
        return nn.functional.cross_entropy(Logits(features), target).MoveToOuterDisposeScope();
    }
}
