using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Rpn;

/// <summary>
/// The RPN head shared by every level (torchvision's <c>RPNHead</c>): 3×3 conv + ReLU (<c>conv.0.0</c>), then 1×1
/// convs to A objectness logits (<c>cls_logits</c>) and 4A box deltas (<c>bbox_pred</c>); weights N(0, 0.01), biases 0.
/// </summary>
/// <remarks>Shape shorthand: per level <c>[B, C, H, W]</c> → logits <c>[B, A, H, W]</c>, deltas <c>[B, 4A, H, W]</c>.</remarks>
public sealed class RpnHead : nn.Module<IReadOnlyList<Tensor>, (IReadOnlyList<Tensor> Logits, IReadOnlyList<Tensor> Deltas)>
{
    private readonly Sequential conv;
    private readonly Conv2d cls_logits;
    private readonly Conv2d bbox_pred;

    /// <summary>Creates the head.</summary>
    /// <param name="inChannels">Channels of the feature maps (FPN: 256).</param>
    /// <param name="numAnchors">Anchors per location A (3).</param>
    /// <param name="convDepth">3×3 conv + ReLU layers before the predictors (1).</param>
    public RpnHead(long inChannels, long numAnchors, int convDepth = 1) : base(nameof(RpnHead))
    {
        if (inChannels <= 0) throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, "Channels must be positive.");
        if (numAnchors <= 0) throw new ArgumentOutOfRangeException(nameof(numAnchors), numAnchors, "Anchors per location must be positive.");
        conv = nn.Sequential(Enumerable.Range(0, convDepth)
            .Select(_ => (nn.Module<Tensor, Tensor>)nn.Sequential(nn.Conv2d(inChannels, inChannels, 3, padding: 1), nn.ReLU()))
            .ToArray());
        cls_logits = nn.Conv2d(inChannels, numAnchors, 1);
        bbox_pred = nn.Conv2d(inChannels, numAnchors * 4, 1);
        NumAnchors = numAnchors;
        RegisterComponents();
        using (torch.no_grad())
        {
            foreach (var (name, p) in named_parameters())
            {
                if (name.EndsWith(".weight", StringComparison.Ordinal)) nn.init.normal_(p, 0, 0.01);
                else nn.init.constant_(p, 0);
            }
        }
    }

    /// <summary>Anchors per location.</summary>
    public long NumAnchors { get; }

    /// <inheritdoc/>
    public override (IReadOnlyList<Tensor> Logits, IReadOnlyList<Tensor> Deltas) forward(IReadOnlyList<Tensor> features)
    {
        var logits = new List<Tensor>();
        var deltas = new List<Tensor>();
        foreach (Tensor f in features)
        {
            using var scope = NewDisposeScope();
            Tensor t = conv.call(f);
            logits.Add(cls_logits.call(t).MoveToOuterDisposeScope());
            deltas.Add(bbox_pred.call(t).MoveToOuterDisposeScope());
        }
        return (logits, deltas);
    }
}
