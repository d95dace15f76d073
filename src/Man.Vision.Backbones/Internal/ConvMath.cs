namespace Man.Vision.Backbones.Internal;

/// <summary>Output sizes of convolutions and pooling (PyTorch's formula, floor mode).</summary>
internal static class ConvMath
{
    /// <summary>floor((size + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1.</summary>
    public static long OutputSize(long size, long kernel, long stride, long padding, long dilation = 1)
        => (size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
}
