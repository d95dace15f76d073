using static TorchSharp.torch;

namespace Man.Vision.Data.Tests.Transforms;

internal static class TensorAssert
{
    /// <summary>Same shape and exactly equal elements.</summary>
    public static bool IsEqual(this Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape)) return false;
        using var eq = a.eq(b);
        using var all = eq.all();
        return all.item<bool>();
    }
}
