using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Heads;

/// <summary>
/// The box head of FPN-based Faster R-CNN (torchvision's <c>TwoMLPHead</c>): flatten, <c>fc6</c> + ReLU, <c>fc7</c> + ReLU.
/// </summary>
/// <remarks>Shape shorthand: <c>[R, C, 7, 7]</c> → <c>[R, representation]</c>.</remarks>
public sealed class TwoMlpHead : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc6;
    private readonly Linear fc7;

    /// <summary>Creates the head.</summary>
    /// <param name="inChannels">Flattened input size (C·7·7).</param>
    /// <param name="representationSize">Width of both layers (1024).</param>
    public TwoMlpHead(long inChannels, long representationSize = 1024) : base(nameof(TwoMlpHead))
    {
        fc6 = nn.Linear(inChannels, representationSize);
        fc7 = nn.Linear(representationSize, representationSize);
        RepresentationSize = representationSize;
        RegisterComponents();
    }

    /// <summary>Output width.</summary>
    public long RepresentationSize { get; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor h = nn.functional.relu(fc6.call(x.flatten(1)));
        return nn.functional.relu(fc7.call(h)).MoveToOuterDisposeScope();
    }
}
