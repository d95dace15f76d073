using Man.Vision.Data.Masks;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Evaluation;

/// <summary>Whole-tensor copies to managed arrays (call inside a dispose scope).</summary>
internal static class TensorArrays
{
    public static float[] Boxes(Tensor t, string name)
    {
        if (t.numel() == 0) return [];
        if (t.dim() != 2 || t.shape[1] != 4)
            throw new ArgumentException($"'{name}' must have shape [N, 4], found [{string.Join(", ", t.shape)}].");
        return Floats(t);
    }

    public static float[] Floats(Tensor t) => t.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();

    public static long[] Longs(Tensor t) => t.detach().cpu().to_type(ScalarType.Int64).contiguous().data<long>().ToArray();

    /// <summary>
    /// <c>[N, H, W]</c> or <c>[N, 1, H, W]</c> masks to RLEs in one copy: floating-point values are foreground where
    /// &gt; <paramref name="threshold"/>, integers and bools where non-zero.
    /// </summary>
    public static Rle[] Masks(Tensor t, double threshold)
    {
        if (t.dim() == 4 && t.shape[1] == 1) t = t.squeeze(1);
        if (t.dim() != 3)
            throw new ArgumentException($"Masks must have shape [N, H, W] or [N, 1, H, W], found [{string.Join(", ", t.shape)}].");
        int n = (int)t.shape[0], h = (int)t.shape[1], w = (int)t.shape[2];
        var binary = t.is_floating_point() ? t.detach().gt(threshold) : t.detach().ne(0);
        byte[] bytes = binary.cpu().to_type(ScalarType.Byte).contiguous().data<byte>().ToArray();
        var rles = new Rle[n];
        for (int i = 0; i < n; i++)
            rles[i] = Rle.Encode(bytes.AsSpan(i * h * w, h * w), h, w);
        return rles;
    }

    public static bool[] Flags(Tensor t) => t.detach().cpu().to_type(ScalarType.Bool).contiguous().data<bool>().ToArray();
}
