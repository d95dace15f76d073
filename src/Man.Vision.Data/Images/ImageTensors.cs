using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Data.Images;

/// <summary>Conversions between <see cref="RgbImage"/> and tensors (torchvision's <c>to_tensor</c> / <c>to_pil_image</c>).</summary>
public static class ImageTensors
{
    /// <summary>
    /// The image as a float tensor <c>[3, H, W]</c> in [0, 1] (value / 255), built in one pass over the bytes.
    /// The tensor is created in the caller's current dispose scope.
    /// </summary>
    public static Tensor ToTensor(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var chw = new float[image.Pixels.Length];
        WriteChw(image.Pixels, image.Width, image.Height, chw);
        return torch.tensor(chw, [3L, image.Height, image.Width]);
    }

    /// <summary>The image as a uint8 tensor <c>[3, H, W]</c> (torchvision's <c>pil_to_tensor</c>).</summary>
    public static Tensor ToByteTensor(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var scope = torch.NewDisposeScope();
        var hwc = torch.tensor(image.Pixels, [image.Height, image.Width, 3L], dtype: ScalarType.Byte);
        return hwc.permute(2, 0, 1).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Writes HWC RGB bytes as CHW floats in [0, 1] into <paramref name="destination"/> (<c>3·H·W</c> floats), e.g. one
    /// slot of a batch buffer.
    /// </summary>
    public static void WriteChw(ReadOnlySpan<byte> hwc, int width, int height, Span<float> destination)
    {
        int plane = width * height;
        if (hwc.Length != plane * 3 || destination.Length != plane * 3)
            throw new ArgumentException($"A {width}x{height} RGB image needs {plane * 3} bytes and floats, got {hwc.Length} and {destination.Length}.");
        var r = destination[..plane];
        var g = destination.Slice(plane, plane);
        var b = destination.Slice(2 * plane, plane);
        for (int i = 0, j = 0; i < plane; i++, j += 3)
        {
            r[i] = hwc[j] / 255f; // division, not a reciprocal product: bit-identical to torchvision's div(255)
            g[i] = hwc[j + 1] / 255f; // division, not a reciprocal product: bit-identical to torchvision's div(255)
            b[i] = hwc[j + 2] / 255f; // division, not a reciprocal product: bit-identical to torchvision's div(255)
        }
    }

    /// <summary>
    /// An image from a tensor <c>[3, H, W]</c>: float values in [0, 1] are scaled by 255, rounded and clamped
    /// (torchvision's <c>to_pil_image</c> truncates; rounding keeps <c>ToTensor</c> → <c>FromTensor</c> exact);
    /// uint8 values are taken as they are.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not <c>[3, H, W]</c>.</exception>
    public static RgbImage FromTensor(Tensor chw, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(chw);
        if (chw.dim() != 3 || chw.shape[0] != 3)
            throw new ArgumentException($"Expected an image tensor [3, H, W], got [{string.Join(", ", chw.shape)}].", nameof(chw));
        using var scope = torch.NewDisposeScope();
        var bytes = chw.dtype == ScalarType.Byte
            ? chw
            : chw.to(ScalarType.Float32).mul(255f).round().clamp(0, 255).to(ScalarType.Byte);
        var hwc = bytes.permute(1, 2, 0).contiguous().cpu();
        return new RgbImage((int)chw.shape[2], (int)chw.shape[1], hwc.data<byte>().ToArray(), source);
    }
}
