using Man.Vision.Segmentation.Losses;
using Man.Vision.Segmentation.Models;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Tests.Losses;

public sealed class LossTests
{
    [Fact]
    public void Pixel_cross_entropy_averages_over_non_ignored_pixels()
    {
        using var scope = NewDisposeScope();
        // One image, 2 classes, 1×3 pixels. Logits per pixel (class 0, class 1): (2, 0), (0, 1), (5, -5); labels 0, 1, 255.
        // CE(pixel 1) = −log(e²/(e²+1)) = log(1 + e^−2) = 0.126928; CE(pixel 2) = log(1 + e^−1) = 0.313262;
        // pixel 3 is ignored: mean = (0.126928 + 0.313262) / 2 = 0.220095.
        Tensor logits = tensor(new float[] { 2, 0, 5, 0, 1, -5 }, [1, 2, 1, 3]);
        Tensor target = tensor(new long[] { 0, 1, 255 }, [1, 1, 3]);
        double expected = (Math.Log(1 + Math.Exp(-2)) + Math.Log(1 + Math.Exp(-1))) / 2;
        Assert.Equal(0.220095, expected, 6);
        Assert.Equal(expected, PixelCrossEntropy.Loss(logits, target).item<float>(), 5);
        // With ignore index 5 the third pixel counts: CE = log(1 + e^10) ≈ 10.0000454.
        Tensor target2 = tensor(new long[] { 0, 1, 0 }, [1, 1, 3]);
        double expected3 = (Math.Log(1 + Math.Exp(-2)) + Math.Log(1 + Math.Exp(-1)) + Math.Log(1 + Math.Exp(-10))) / 3;
        Assert.Equal(expected3, PixelCrossEntropy.Loss(logits, target2, ignoreIndex: 5).item<float>(), 5);
    }

    [Fact]
    public void Pixel_cross_entropy_is_zero_with_a_graph_when_all_pixels_are_ignored()
    {
        using var scope = NewDisposeScope();
        Tensor logits = randn(2, 3, 4, 5).requires_grad_(true);
        Tensor target = full([2, 4, 5], 255L, ScalarType.Int64);
        Tensor loss = PixelCrossEntropy.Loss(logits, target);
        Assert.Equal(0f, loss.item<float>());
        loss.backward();
        Assert.Equal(0f, logits.grad!.abs().sum().item<float>());
    }

    [Fact]
    public void Pixel_cross_entropy_rejects_mismatched_targets()
    {
        using var scope = NewDisposeScope();
        Tensor logits = randn(2, 3, 4, 5);
        Assert.Throws<ArgumentException>(() => PixelCrossEntropy.Loss(logits, zeros([2, 4, 6], ScalarType.Int64)));
        Assert.Throws<ArgumentException>(() => PixelCrossEntropy.Loss(logits, zeros([2, 4, 5])));
    }

    [Fact]
    public void Criterion_adds_half_the_auxiliary_loss()
    {
        using var scope = NewDisposeScope();
        Tensor outLogits = randn(2, 3, 6, 7), auxLogits = randn(2, 3, 6, 7);
        Tensor target = randint(0, 3, [2, 6, 7]);
        var losses = new SegmentationCriterion().Losses(new SegmentationOutput(outLogits, auxLogits), target);
        Assert.Equal(["out", "aux"], losses.Keys);
        Assert.Equal(PixelCrossEntropy.Loss(outLogits, target).item<float>(), losses["out"].item<float>(), 6);
        Assert.Equal(0.5 * PixelCrossEntropy.Loss(auxLogits, target).item<float>(), losses["aux"].item<float>(), 6);
        Assert.Single(new SegmentationCriterion().Losses(new SegmentationOutput(outLogits, null), target));
    }
}
