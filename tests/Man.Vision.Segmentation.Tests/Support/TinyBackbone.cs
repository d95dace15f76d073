using Man.Vision.Segmentation.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Tests.Support;

/// <summary>
/// A small dilated conv backbone with ResNet-like stage names: conv1 (stride 2) → layer1 (stride 2) → layer2 (stride 2)
/// → layer3 (dilation 2, "aux") → layer4 (dilation 4, "out"): output stride 8, each stride-2 conv giving ceil(x/2).
/// </summary>
internal sealed class TinyBackbone : SegmentationBackbone
{
    private readonly Sequential conv1;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;

    private readonly (long In, long Out, long Stride, long Dilation)[] specs;

    public TinyBackbone(long width = 16, long inChannels = 3) : base(nameof(TinyBackbone))
    {
        Width = width;
        specs = [(inChannels, width, 2, 1), (width, width, 2, 1), (width, 2 * width, 2, 1), (2 * width, 2 * width, 1, 2), (2 * width, 4 * width, 1, 4)];
        conv1 = CreateStage(0);
        layer1 = CreateStage(1);
        layer2 = CreateStage(2);
        layer3 = CreateStage(3);
        layer4 = CreateStage(4);
        RegisterComponents();
    }

    /// <summary>A fresh stage with the architecture (and parameter names) of stage <paramref name="index"/>.</summary>
    public Sequential CreateStage(int index) => Block(specs[index].In, specs[index].Out, specs[index].Stride, specs[index].Dilation);

    public long Width { get; }

    public override long OutChannels => 4 * Width;

    public override long AuxChannels => 2 * Width;

    public override int OutputStride => 8;

    /// <summary>The stages as units (for local-learning tests), in order.</summary>
    public IReadOnlyList<nn.Module<Tensor, Tensor>> Stages => [conv1, layer1, layer2, layer3, layer4];

    public static Sequential Block(long cin, long cout, long stride, long dilation) =>
        nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride: stride, padding: dilation, dilation: dilation, bias: false),
            nn.BatchNorm2d(cout),
            nn.ReLU());

    public override SegmentationFeatures forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor aux = layer3.forward(layer2.forward(layer1.forward(conv1.forward(x))));
        Tensor output = layer4.forward(aux);
        return new SegmentationFeatures(output.MoveToOuterDisposeScope(), aux.MoveToOuterDisposeScope());
    }
}

/// <summary>The stages of a <see cref="TinyBackbone"/> as the engine's unit sequence.</summary>
internal sealed class TinyUnits(TinyBackbone backbone) : Man.Local.IUnitSequence
{
    private static readonly string[] Names = ["conv1", "layer1", "layer2", "layer3", "layer4"];

    public int Count => 5;

    public nn.Module<Tensor, Tensor> this[int index] => backbone.Stages[index];

    public string UnitName(int index) => Names[index];

    public nn.Module<Tensor, Tensor> CreateLike(int index) => backbone.CreateStage(index);
}

/// <summary>
/// A backbone with ResNet-50's channels (out 2048, aux 1024) made of two 1×1 convs, to compare head parameter shapes
/// with torchvision's deeplabv3_resnet50 / fcn_resnet50.
/// </summary>
internal sealed class WideStubBackbone : SegmentationBackbone
{
    private readonly Conv2d layer3;
    private readonly Conv2d layer4;

    public WideStubBackbone() : base(nameof(WideStubBackbone))
    {
        layer3 = nn.Conv2d(3, 1024, 1);
        layer4 = nn.Conv2d(1024, 2048, 1);
        RegisterComponents();
    }

    public override long OutChannels => 2048;

    public override long AuxChannels => 1024;

    public override int OutputStride => 8;

    public override SegmentationFeatures forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor aux = layer3.forward(x);
        return new SegmentationFeatures(layer4.forward(aux).MoveToOuterDisposeScope(), aux.MoveToOuterDisposeScope());
    }
}
