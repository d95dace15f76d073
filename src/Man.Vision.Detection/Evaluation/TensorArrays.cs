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

    public static bool[] Flags(Tensor t) => t.detach().cpu().to_type(ScalarType.Bool).contiguous().data<bool>().ToArray();
}
