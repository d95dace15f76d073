using Man.Vision.Segmentation.Heads;
using Man.Vision.Segmentation.Models;
using Man.Vision.Segmentation.Tests.Support;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Tests.Models;

public sealed class ResNetSegmentationTests
{
    [Theory]
    [InlineData(SegmentationHeadKind.DeepLabV3, "deeplabv3_resnet50")]
    [InlineData(SegmentationHeadKind.Fcn, "fcn_resnet50")]
    public void Whole_state_dict_equals_torchvision(SegmentationHeadKind kind, string model)
    {
        // torchvision: deeplabv3_resnet50 / fcn_resnet50(weights=None, weights_backbone=None, aux_loss=True), 21 classes.
        using var m = SegmentationModel.Create(ResNetSegmentationBackbone.Create("resnet50", 8), kind, 21, auxLoss: true);
        var expected = Fixtures.StateNames(model).OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
        var actual = Fixtures.StateOf(m).OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
        Assert.Equal(kind == SegmentationHeadKind.DeepLabV3 ? 370 : 334, expected.Count);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void ResNet50_output_stride_8_keeps_odd_input_sizes()
    {
        using var scope = NewDisposeScope();
        var backbone = ResNetSegmentationBackbone.Create("resnet50", 8);
        Assert.Equal((2048L, 1024L, 8), (backbone.OutChannels, backbone.AuxChannels, backbone.OutputStride));
        Assert.Equal(backbone.ResNet.Count - 1, backbone.LastUnitIndex);
        Assert.Equal(3 + 4 + 6, backbone.AuxUnitIndex); // unit 0 is the stem, units 1..13 the blocks of layer1..layer3
        using var model = SegmentationModel.Create(backbone, SegmentationHeadKind.DeepLabV3, 5, auxLoss: true);
        model.eval();
        using var noGrad = no_grad();
        Tensor images = randn(1, 3, 97, 131);
        // conv1 (7×7/2): 49×66, maxpool (3×3/2): 25×33, layer2 (/2): 13×17; layer3/4 dilated keep 13×17.
        var features = backbone.forward(images);
        Assert.Equal(new long[] { 1, 2048, 13, 17 }, features.Out.shape);
        Assert.Equal(new long[] { 1, 1024, 13, 17 }, features.Aux!.shape);
        var output = model.forward(images);
        Assert.Equal(new long[] { 1, 5, 97, 131 }, output.Out.shape);
        Assert.Equal(new long[] { 1, 5, 97, 131 }, output.Aux!.shape);
    }

    [Fact]
    public void Basic_block_resnets_run_at_output_stride_32()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => ResNetSegmentationBackbone.Create("resnet18", 8));
        Assert.Contains("basic blocks", e.Message);
        using var model = SegmentationModel.Create(ResNetSegmentationBackbone.Create("resnet18", 32), SegmentationHeadKind.DeepLabV3, 3, auxLoss: true);
        Assert.Equal([3, 6, 9], ((DeepLabHead)model.Classifier).AtrousRates);
        Assert.Equal(512, model.Backbone.OutChannels);
        model.eval();
        using var noGrad = no_grad();
        Assert.Equal(new long[] { 2, 3, 65, 47 }, model.forward(randn(2, 3, 65, 47)).Out.shape);
    }
}
