using Man.Vision.Segmentation.Inference;
using Man.Vision.Segmentation.Models;
using Man.Vision.Segmentation.Tests.Support;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Tests.Inference;

public sealed class InferenceTests
{
    [Fact]
    public void Windows_are_placed_as_mmsegmentation_places_them()
    {
        // H = 97, crop 64, stride 48: rows = max(97 − 64 + 47, 0) // 48 + 1 = 2; second row y1 = 48, y2 = min(112, 97) = 97,
        // shifted back to y1 = 97 − 64 = 33. W = 50 < crop: one column [0, 50).
        var windows = new SlidingWindow(64, 64, 48, 48).Windows(97, 50);
        Assert.Equal([(0L, 64L, 0L, 50L), (33L, 97L, 0L, 50L)], windows);
        // W = 131, crop 64, stride 32: cols = (131 − 64 + 31) // 32 + 1 = 4: x1 = 0, 32, 64, 96→67 (shifted).
        var cols = new SlidingWindow(64, 64, 32, 32).Windows(64, 131).Select(w => (w.X1, w.X2)).ToArray();
        Assert.Equal([(0L, 64L), (32L, 96L), (64L, 128L), (67L, 131L)], cols);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlidingWindow(32, 32, 40, 16));
    }

    [Fact]
    public void Sliding_window_averages_overlapping_logits()
    {
        using var scope = NewDisposeScope();
        // A crop-dependent "model": logits = image + mean of the crop (a different constant per window), two classes.
        Func<Tensor, Tensor> model = crop => cat([crop, crop.neg()], 1).add(crop.mean());
        var rng = new Random(3);
        int h = 23, w = 31;
        float[] pixels = Enumerable.Range(0, h * w).Select(_ => (float)rng.NextDouble()).ToArray();
        Tensor image = tensor(pixels, [1, 1, h, w]);
        var window = new SlidingWindow(10, 12, 6, 7);
        Tensor logits = SegmentationInference.Logits(model, image, window);
        Assert.Equal(new long[] { 1, 2, h, w }, logits.shape);

        // Independent expectation with plain loops: per pixel, the mean over the windows covering it of (pixel + window mean).
        var sum = new double[h * w];
        var count = new int[h * w];
        foreach (var (y1, y2, x1, x2) in window.Windows(h, w))
        {
            double mean = 0;
            for (long y = y1; y < y2; y++) for (long x = x1; x < x2; x++) mean += pixels[y * w + x];
            mean /= (y2 - y1) * (x2 - x1);
            for (long y = y1; y < y2; y++) for (long x = x1; x < x2; x++) { sum[y * w + x] += pixels[y * w + x] + mean; count[y * w + x]++; }
        }
        Assert.True(count.All(c => c > 0));
        Assert.Contains(count, c => c > 1);
        float[] actual = logits[0, 0].contiguous().data<float>().ToArray();
        for (int i = 0; i < h * w; i++) Assert.True(Math.Abs(sum[i] / count[i] - actual[i]) < 1e-5, $"pixel {i}: {sum[i] / count[i]} vs {actual[i]}");
    }

    [Fact]
    public void Whole_and_sliding_inference_agree_for_a_pixelwise_model_and_predict_the_argmax()
    {
        using var scope = NewDisposeScope();
        Tensor weights = randn(4, 3);
        Func<Tensor, Tensor> model = x => einsum("kc,nchw->nkhw", weights, x);
        Tensor images = randn(2, 3, 37, 29);
        Tensor whole = SegmentationInference.Logits(model, images);
        Tensor slide = SegmentationInference.Logits(model, images, SlidingWindow.Square(16, 11));
        Assert.True(whole.allclose(slide, rtol: 1e-5, atol: 1e-5));
        Tensor prediction = SegmentationInference.Predict(model, images, SlidingWindow.Square(16, 11));
        Assert.Equal(ScalarType.Int64, prediction.dtype);
        Assert.Equal(new long[] { 2, 37, 29 }, prediction.shape);
        Assert.True(prediction.eq(whole.argmax(1)).all().item<bool>());
    }

    [Fact]
    public void Model_prediction_runs_in_eval_mode_and_restores_training()
    {
        using var scope = NewDisposeScope();
        using var model = SegmentationModel.Create(new TinyBackbone(8), SegmentationHeadKind.DeepLabV3, 3, auxLoss: true);
        model.train();
        Tensor images = randn(1, 3, 97, 131);
        long regions = Man.Runtime.CollectorPause.RegionsStarted;
        Tensor a = SegmentationInference.Predict(model, images);
        Tensor b = SegmentationInference.Predict(model, images, SlidingWindow.Square(64, 48));
        if (Man.Runtime.CollectorPause.Enabled) Assert.Equal(regions + 2, Man.Runtime.CollectorPause.RegionsStarted); // each call in a no-GC region
        Assert.Equal(new long[] { 1, 97, 131 }, a.shape);
        Assert.Equal(new long[] { 1, 97, 131 }, b.shape);
        Assert.True(model.training);
        Assert.True(a.eq(SegmentationInference.Predict(model, images)).all().item<bool>()); // eval mode: deterministic (no dropout)
    }
}
