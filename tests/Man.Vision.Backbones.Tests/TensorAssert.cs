using static TorchSharp.torch;

namespace Man.Vision.Backbones.Tests;

public static class TensorAssert
{
    /// <summary>max|actual − expected| / max|expected| ≤ tolerance, and equal shapes; returns the relative error.</summary>
    public static double Close(Tensor expected, Tensor actual, double tolerance, string what)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape {string.Join("x", actual.shape)} differs from the reference {string.Join("x", expected.shape)}");
        using var scope = NewDisposeScope();
        var e = expected.to_type(ScalarType.Float64);
        var a = actual.to_type(ScalarType.Float64);
        double scale = e.abs().max().item<double>();
        double diff = (a - e).abs().max().item<double>();
        double rel = diff / Math.Max(scale, 1e-30);
        Assert.True(rel <= tolerance, $"{what}: max abs difference {diff:E3} is {rel:E3} of the reference scale {scale:E3} (tolerance {tolerance:E1})");
        return rel;
    }

    /// <summary>Same shape, dtype and bitwise-equal values.</summary>
    public static bool Identical(Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();

    public static void Equal(Tensor expected, Tensor actual, string what)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape), $"{what}: shapes differ");
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.True(TensorAssert.Identical(expected, actual), $"{what}: values differ");
    }
}
