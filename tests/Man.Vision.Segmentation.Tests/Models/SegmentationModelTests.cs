using Man.Vision.Segmentation.Heads;
using Man.Vision.Segmentation.Models;
using Man.Vision.Segmentation.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Tests.Models;

public sealed class SegmentationModelTests
{
    [Theory]
    [InlineData(SegmentationHeadKind.DeepLabV3, "deeplabv3_resnet50")]
    [InlineData(SegmentationHeadKind.Fcn, "fcn_resnet50")]
    public void Head_parameters_equal_torchvision_resnet50_models(SegmentationHeadKind kind, string model)
    {
        // The backbone stub has ResNet-50's channels; every non-backbone entry must match torchvision's key and shape.
        using var m = SegmentationModel.Create(new WideStubBackbone(), kind, 21, auxLoss: true);
        var expected = Fixtures.StateNames(model).Where(e => !e.Key.StartsWith("backbone.", StringComparison.Ordinal))
            .OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
        var actual = Fixtures.StateOf(m).Where(e => !e.Key.StartsWith("backbone.", StringComparison.Ordinal))
            .OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, actual);
        Assert.Contains(actual, e => e.Key == "classifier.4.weight");
        Assert.Contains(actual, e => e.Key == "aux_classifier.4.bias");
    }

    [Theory]
    [InlineData(SegmentationHeadKind.DeepLabV3, 97, 131)]
    [InlineData(SegmentationHeadKind.Fcn, 97, 131)]
    [InlineData(SegmentationHeadKind.DeepLabV3, 33, 65)]
    public void Logits_have_the_input_size_for_odd_inputs(SegmentationHeadKind kind, int h, int w)
    {
        using var scope = NewDisposeScope();
        using var model = SegmentationModel.Create(new TinyBackbone(8), kind, 4, auxLoss: true);
        model.eval();
        Tensor images = randn(2, 3, h, w);
        using var noGrad = no_grad();
        SegmentationOutput output = model.forward(images);
        Assert.Equal(new long[] { 2, 4, h, w }, output.Out.shape);
        Assert.NotNull(output.Aux);
        Assert.Equal(new long[] { 2, 4, h, w }, output.Aux!.shape);

        // The stride-8 features of a 97×131 image are ceil(ceil(ceil(x/2)/2)/2): 13×17, and the heads keep that size.
        var features = model.Backbone.forward(images);
        long fh = (long)Math.Ceiling(Math.Ceiling(Math.Ceiling(h / 2.0) / 2.0) / 2.0);
        long fw = (long)Math.Ceiling(Math.Ceiling(Math.Ceiling(w / 2.0) / 2.0) / 2.0);
        Assert.Equal(new long[] { 2, 32, fh, fw }, features.Out.shape);
        Assert.Equal(new long[] { 2, 4, fh, fw }, model.Classifier.forward(features.Out).shape);
        Assert.Equal(new long[] { 2, 4, fh, fw }, model.AuxClassifier!.forward(features.Aux!).shape);
    }

    [Fact]
    public void Logits_are_the_bilinear_upsampling_of_the_head_output()
    {
        using var scope = NewDisposeScope();
        using var model = SegmentationModel.Create(new TinyBackbone(8), SegmentationHeadKind.Fcn, 3, auxLoss: false);
        model.eval();
        using var noGrad = no_grad();
        Tensor images = randn(1, 3, 41, 23);
        Tensor head = model.Classifier.forward(model.Backbone.forward(images).Out);
        Tensor expected = nn.functional.interpolate(head, [41, 23], mode: InterpolationMode.Bilinear, align_corners: false);
        Assert.True(model.forward(images).Out.allclose(expected));
        Assert.Null(model.forward(images).Aux);
        Assert.False(model.HasAuxClassifier);
    }

    [Fact]
    public void DeepLabV3_uses_the_rates_of_the_output_stride()
    {
        using var model = SegmentationModel.Create(new TinyBackbone(8), SegmentationHeadKind.DeepLabV3, 3, auxLoss: false);
        Assert.Equal([12, 24, 36], ((DeepLabHead)model.Classifier).AtrousRates);
    }

    [Fact]
    public void Head_kind_names_parse()
    {
        Assert.Equal(SegmentationHeadKind.DeepLabV3, SegmentationHeadKinds.Parse("DeepLabV3"));
        Assert.Equal(SegmentationHeadKind.Fcn, SegmentationHeadKinds.Parse("fcn"));
        var e = Assert.Throws<ArgumentException>(() => SegmentationHeadKinds.Parse("pspnet"));
        Assert.Contains("fcn, deeplabv3", e.Message);
    }
}
