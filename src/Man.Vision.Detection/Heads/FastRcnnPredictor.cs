using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Heads;

/// <summary>
/// Class scores and per-class box deltas (torchvision's <c>FastRCNNPredictor</c>): <c>cls_score</c> and <c>bbox_pred</c>.
/// </summary>
/// <remarks>Shape shorthand: <c>[R, D]</c> → logits <c>[R, K]</c>, deltas <c>[R, 4K]</c>, K classes including background 0.</remarks>
public sealed class FastRcnnPredictor : nn.Module<Tensor, (Tensor Logits, Tensor Deltas)>
{
    private readonly Linear cls_score;
    private readonly Linear bbox_pred;

    /// <summary>Creates the predictor.</summary>
    /// <param name="inChannels">Input width (1024).</param>
    /// <param name="numClasses">Classes including the background (COCO: 91).</param>
    public FastRcnnPredictor(long inChannels, long numClasses) : base(nameof(FastRcnnPredictor))
    {
        if (numClasses < 2) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "At least two classes (background and one object class) are needed.");
        cls_score = nn.Linear(inChannels, numClasses);
        bbox_pred = nn.Linear(inChannels, numClasses * 4);
        NumClasses = numClasses;
        RegisterComponents();
    }

    /// <summary>Classes including the background.</summary>
    public long NumClasses { get; }

    /// <inheritdoc/>
    public override (Tensor Logits, Tensor Deltas) forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor flat = x.flatten(1);
        return (cls_score.call(flat).MoveToOuterDisposeScope(), bbox_pred.call(flat).MoveToOuterDisposeScope());
    }
}
