using Man.Local;
using Man.Vision.Segmentation.Evaluation;
using Man.Vision.Segmentation.Heads;
using Man.Vision.Segmentation.LocalLearning;
using Man.Vision.Segmentation.Models;
using Man.Vision.Segmentation.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Tests.LocalLearning;

public sealed class LocalLearningTests
{
    [Fact]
    public void Auxiliary_losses_reach_their_own_block_only_and_the_main_head_the_last_block()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        // Units of a width-8 tiny backbone: conv1 (8 ch, /2), layer1 (8, /4), layer2 (16, /8), layer3 (16), layer4 (32).
        // K = 3 blocks: [conv1, layer1] | [layer2, layer3] | [layer4]; the main head reads layer3 (unit 3, detached) for
        // its aux classifier and layer4 for DeepLabV3.
        using var backbone = new TinyBackbone(8);
        var units = backbone.Stages;
        var loop = new MiniLocalLoop(units, [2, 4, 5]);
        var main = SegmentationMainHead.Create(SegmentationHeadKind.DeepLabV3, 3, lastChannels: 32, outputStride: 8, auxChannels: 16, auxUnitIndex: 3);
        var task = new SegmentationLocalTask(main, 3);
        var aux0 = task.CreateAuxiliaryHead(new AuxiliaryHeadContext(0, [8, 10, 12], [3, 37, 45]));
        var aux1 = task.CreateAuxiliaryHead(new AuxiliaryHeadContext(1, [16, 5, 6], [3, 37, 45]));
        Assert.Equal([3], main.ExtraUnitOutputs);

        Tensor images = randn(2, 3, 37, 45);
        Tensor target = randint(0, 3, [2, 37, 45]);
        target[0, 0, ..] = 255;
        var outputs = new Dictionary<int, Tensor>();

        // Block 0 and its auxiliary loss: gradients in units 0–1 and aux0 only.
        Tensor h0 = loop.RunBlock(0, images, outputs);
        Assert.Equal(new long[] { 2, 8, 10, 12 }, h0.shape);
        aux0.Loss(h0, target).backward();
        AssertGradients(units, aux0, aux1, main, nonZero: [0, 1], none: [2, 3, 4], auxNonZero: [true, false], mainHasGrad: false);

        // Block 1 on the detached output: its aux loss leaves units 0–1 as they were.
        var before = GradientCopies(units, [0, 1]);
        Tensor h1 = loop.RunBlock(1, h0, outputs);
        aux1.Loss(h1, target).backward();
        AssertGradients(units, aux0, aux1, main, nonZero: [0, 1, 2, 3], none: [4], auxNonZero: [true, true], mainHasGrad: false);
        AssertUnchanged(units, before);

        // Last block: the main losses (out + 0.5·aux on the detached layer3 output) reach layer4 and both classifiers only.
        before = GradientCopies(units, [0, 1, 2, 3]);
        Tensor h2 = loop.RunBlock(2, h1, outputs);
        var losses = main.Losses(new Dictionary<int, Tensor> { [3] = outputs[3].detach(), [4] = h2 }, h2, target);
        Assert.Equal(["out", "aux"], losses.Keys);
        (losses["out"] + losses["aux"]).backward();
        AssertGradients(units, aux0, aux1, main, nonZero: [0, 1, 2, 3, 4], none: [], auxNonZero: [true, true], mainHasGrad: true);
        AssertUnchanged(units, before);
        Assert.All(main.AuxClassifier!.parameters(), p => Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0));
    }

    [Fact]
    public void Auxiliary_head_has_the_fcn_layout_and_upsamples_to_the_label_size()
    {
        using var scope = NewDisposeScope();
        var head = new SegmentationAuxiliaryHead(256, 11);
        Assert.Equal(64, head.HiddenChannels); // 256 / 4
        Assert.Equal(64, new SegmentationAuxiliaryHead(64, 11).HiddenChannels); // at least 64
        Assert.Equal(["0.weight", "1.weight", "1.bias", "3.weight", "3.bias"], head.named_parameters().Select(p => p.name));
        Tensor features = randn(2, 256, 7, 9);
        Assert.Equal(new long[] { 2, 11, 7, 9 }, head.Logits(features).shape);

        // The loss is the pixel cross-entropy of the logits resized to the 53×71 labels.
        Tensor target = randint(0, 11, [2, 53, 71]);
        head.eval();
        Tensor resized = nn.functional.interpolate(head.Logits(features), [53, 71], mode: InterpolationMode.Bilinear, align_corners: false);
        Tensor expected = nn.functional.cross_entropy(resized, target);
        Assert.Equal(expected.item<float>(), head.Loss(features, target).item<float>(), 5);
    }

    [Fact]
    public void Task_validates_contexts_and_main_head_arguments()
    {
        var task = new SegmentationLocalTask(SegmentationMainHead.Create(SegmentationHeadKind.Fcn, 4, 64, 8), 4, auxiliaryHiddenChannels: 32);
        var head = (SegmentationAuxiliaryHead)task.CreateAuxiliaryHead(new AuxiliaryHeadContext(0, [48, 8, 8], [3, 64, 64]));
        Assert.Equal(32, head.HiddenChannels);
        Assert.Equal(48, head.InChannels);
        Assert.Throws<ArgumentException>(() => task.CreateAuxiliaryHead(new AuxiliaryHeadContext(0, [48], [3, 64, 64])));
        Assert.Empty(task.MainHead.ExtraUnitOutputs);
        Assert.Throws<ArgumentException>(() => new SegmentationMainHead(new FcnHead(64, 4), new FcnHead(32, 4), auxUnitIndex: null));
        Assert.Throws<ArgumentException>(() => SegmentationMainHead.Create(SegmentationHeadKind.Fcn, 4, 64, 8, auxChannels: 32));
        // Main-head keys follow torchvision's model: classifier.* and aux_classifier.*.
        var main = SegmentationMainHead.Create(SegmentationHeadKind.DeepLabV3, 4, 64, 16, auxChannels: 32, auxUnitIndex: 3);
        Assert.Contains(main.state_dict().Keys, k => k == "classifier.0.convs.4.1.weight");
        Assert.Contains(main.state_dict().Keys, k => k == "aux_classifier.4.weight");
        Assert.Equal([6, 12, 18], ((DeepLabHead)main.Classifier).AtrousRates);
    }

    private static void AssertGradients(IReadOnlyList<nn.Module<Tensor, Tensor>> units, AuxiliaryHead<Tensor> aux0, AuxiliaryHead<Tensor> aux1,
        SegmentationMainHead main, int[] nonZero, int[] none, bool[] auxNonZero, bool mainHasGrad)
    {
        foreach (int u in nonZero)
            Assert.True(units[u].parameters().Any(p => p.grad is not null && p.grad.abs().sum().item<float>() > 0), $"unit {u} should have a gradient");
        foreach (int u in none)
            Assert.All(units[u].parameters(), p => Assert.True(p.grad is null || p.grad.abs().sum().item<float>() == 0, $"unit {u} should have no gradient"));
        AuxiliaryHead<Tensor>[] aux = [aux0, aux1];
        for (int i = 0; i < 2; i++)
            Assert.Equal(auxNonZero[i], aux[i].parameters().Any(p => p.grad is not null && p.grad.abs().sum().item<float>() > 0));
        Assert.Equal(mainHasGrad, main.parameters().Any(p => p.grad is not null && p.grad.abs().sum().item<float>() > 0));
    }

    private static List<(Tensor Param, Tensor Grad)> GradientCopies(IReadOnlyList<nn.Module<Tensor, Tensor>> units, int[] indices) =>
        indices.SelectMany(u => units[u].parameters()).Where(p => p.grad is not null).Select(p => ((Tensor)p, p.grad!.clone())).ToList();

    private static void AssertUnchanged(IReadOnlyList<nn.Module<Tensor, Tensor>> units, List<(Tensor Param, Tensor Grad)> before)
    {
        Assert.NotEmpty(before);
        foreach (var (param, grad) in before) Assert.True(param.grad!.eq(grad).all().item<bool>(), "an earlier block's gradient changed");
    }
}
