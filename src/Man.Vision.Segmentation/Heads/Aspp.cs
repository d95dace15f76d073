using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Heads;

/// <summary>
/// Atrous spatial pyramid pooling (torchvision's <c>ASPP</c>): a 1×1 branch, one atrous 3×3 branch per rate, an image
/// pooling branch, concatenated and projected by conv1×1 → BatchNorm → ReLU → Dropout(0.5).
/// </summary>
/// <remarks>
/// Shape shorthand: <c>[N, in, h, w] → [N, out, h, w]</c> for any h, w (padding = dilation keeps the size).
/// Keys: <c>convs.0.{0,1}</c> (1×1), <c>convs.{1..R}.{0,1}</c> (atrous), <c>convs.{R+1}.{1,2}</c> (pooling),
/// <c>project.{0,1}</c>.
/// </remarks>
public sealed class Aspp : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> convs;
    private readonly Sequential project;

    /// <summary>Creates the module.</summary>
    /// <param name="inChannels">Channels of the input features.</param>
    /// <param name="atrousRates">Dilation rates of the 3×3 branches (12/24/36 at output stride 8, 6/12/18 at 16).</param>
    /// <param name="outChannels">Width of every branch and of the output (torchvision: 256).</param>
    /// <param name="dropout">Dropout after the projection (torchvision: 0.5).</param>
    /// <exception cref="ArgumentException">No rate is given, a rate is not positive, or a size is not positive.</exception>
    public Aspp(long inChannels, IReadOnlyList<int> atrousRates, long outChannels = 256, double dropout = 0.5) : base(nameof(Aspp))
    {
        if (inChannels <= 0) throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, "Input channels must be positive.");
        if (outChannels <= 0) throw new ArgumentOutOfRangeException(nameof(outChannels), outChannels, "Output channels must be positive.");
        if (atrousRates.Count == 0) throw new ArgumentException("ASPP needs at least one atrous rate.", nameof(atrousRates));
        if (atrousRates.Any(r => r <= 0))
            throw new ArgumentException($"Atrous rates must be positive (got {string.Join(", ", atrousRates)}).", nameof(atrousRates));
        if (dropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "Dropout must be in [0, 1).");
        AtrousRates = atrousRates.ToArray();
        OutChannels = outChannels;

        var branches = new List<nn.Module<Tensor, Tensor>>
        {
            nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, bias: false), nn.BatchNorm2d(outChannels), nn.ReLU()),
        };
        foreach (int rate in AtrousRates)
            branches.Add(nn.Sequential(
                nn.Conv2d(inChannels, outChannels, 3, padding: rate, dilation: rate, bias: false),
                nn.BatchNorm2d(outChannels),
                nn.ReLU()));
        branches.Add(new AsppPooling(inChannels, outChannels));
        convs = nn.ModuleList(branches.ToArray());
        project = nn.Sequential(
            nn.Conv2d(branches.Count * outChannels, outChannels, 1, bias: false),
            nn.BatchNorm2d(outChannels),
            nn.ReLU(),
            nn.Dropout(dropout));
        RegisterComponents();
    }

    /// <summary>The dilation rates of the atrous branches.</summary>
    public IReadOnlyList<int> AtrousRates { get; }

    /// <summary>Channels of the output.</summary>
    public long OutChannels { get; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var outputs = new Tensor[convs.Count];
        for (int i = 0; i < convs.Count; i++)
            outputs[i] = convs[i].forward(x);
        return project.forward(cat(outputs, 1)).MoveToOuterDisposeScope();
    }
}
