using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Heads;

/// <summary>
/// torchvision's <c>DeepLabHead</c>: <see cref="Aspp"/> → conv3×3 (no bias) → BatchNorm → ReLU → conv1×1 classifier.
/// </summary>
/// <remarks>
/// Shape shorthand: <c>[N, in, h, w] → [N, classes, h, w]</c>. Keys: <c>0.*</c> (ASPP), <c>1.weight</c>, <c>2.*</c>,
/// <c>4.{weight,bias}</c>, as in torchvision.
/// </remarks>
public sealed class DeepLabHead : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "0")] private readonly Aspp aspp;
    [ComponentName(Name = "1")] private readonly Conv2d conv;
    [ComponentName(Name = "2")] private readonly BatchNorm2d bn;
    [ComponentName(Name = "3")] private readonly ReLU relu;
    [ComponentName(Name = "4")] private readonly Conv2d classifier;

    /// <summary>Creates the head.</summary>
    /// <param name="inChannels">Channels of the input features (2048 for ResNet-50/101 layer4).</param>
    /// <param name="numClasses">Number of output classes.</param>
    /// <param name="atrousRates">ASPP rates; null for torchvision's 12/24/36 (output stride 8), see <see cref="RatesForOutputStride"/>.</param>
    /// <param name="channels">Width of ASPP and of the 3×3 conv (torchvision: 256).</param>
    public DeepLabHead(long inChannels, long numClasses, IReadOnlyList<int>? atrousRates = null, long channels = 256) : base(nameof(DeepLabHead))
    {
        if (numClasses <= 0) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "The number of classes must be positive.");
        aspp = new Aspp(inChannels, atrousRates ?? RatesForOutputStride(8), channels);
        conv = nn.Conv2d(channels, channels, 3, padding: 1, bias: false);
        bn = nn.BatchNorm2d(channels);
        relu = nn.ReLU();
        classifier = nn.Conv2d(channels, numClasses, 1);
        InChannels = inChannels;
        NumClasses = numClasses;
        RegisterComponents();
    }

    /// <summary>Channels of the input features.</summary>
    public long InChannels { get; }

    /// <summary>Number of output classes.</summary>
    public long NumClasses { get; }

    /// <summary>The ASPP rates in use.</summary>
    public IReadOnlyList<int> AtrousRates => aspp.AtrousRates;

    /// <summary>
    /// The ASPP rates of the DeepLabV3 paper for an output stride: 12/24/36 at 8 (torchvision's fixed choice),
    /// 6/12/18 at 16; at 32 (a ResNet without dilation, e.g. ResNet-18/34, whose basic blocks cannot dilate) 3/6/9,
    /// which keeps the same reach in input pixels (rate × stride = 96, 192, 288).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The output stride is not 8, 16 or 32.</exception>
    public static IReadOnlyList<int> RatesForOutputStride(int outputStride) => outputStride switch
    {
        8 => [12, 24, 36],
        16 => [6, 12, 18],
        32 => [3, 6, 9],
        _ => throw new ArgumentOutOfRangeException(nameof(outputStride), outputStride,
            "DeepLabV3's ASPP rates are defined for output stride 8 (12/24/36), 16 (6/12/18) or 32 (3/6/9); pass explicit rates otherwise."),
    };

    /// <inheritdoc/>
    public override Tensor forward(Tensor features)
    {
        using var scope = NewDisposeScope();
        Tensor x = relu.forward(bn.forward(conv.forward(aspp.forward(features))));
        return classifier.forward(x).MoveToOuterDisposeScope();
    }
}
