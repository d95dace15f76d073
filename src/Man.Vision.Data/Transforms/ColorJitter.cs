using static TorchSharp.torch;

namespace Man.Vision.Data.Transforms;

/// <summary>
/// torchvision's <c>ColorJitter(brightness, contrast, saturation)</c> on a batch: each image gets its own factors, drawn
/// uniformly from <c>[max(0, 1 − v), 1 + v]</c>; the order of the three adjustments is drawn once per batch (torchvision
/// draws it per image; per batch keeps the work vectorised). Hue jitter is not offered.
/// </summary>
public sealed class ColorJitter : IBatchTransform
{
    /// <summary>Creates the transform; each strength ≥ 0 (0 leaves that property unchanged).</summary>
    public ColorJitter(float brightness = 0, float contrast = 0, float saturation = 0)
    {
        foreach (var (name, v) in new[] { ("brightness", brightness), ("contrast", contrast), ("saturation", saturation) })
            if (!(v >= 0)) throw new ArgumentOutOfRangeException(name, v, $"The {name} strength must be non-negative.");
        Brightness = brightness;
        Contrast = contrast;
        Saturation = saturation;
    }

    /// <summary>Brightness strength.</summary>
    public float Brightness { get; }

    /// <summary>Contrast strength.</summary>
    public float Contrast { get; }

    /// <summary>Saturation strength.</summary>
    public float Saturation { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor images, Random random)
    {
        int n = (int)images.shape[0];
        var order = new[] { 0, 1, 2 };
        random.Shuffle(order);
        var x = images;
        foreach (int k in order)
        {
            float v = k switch { 0 => Brightness, 1 => Contrast, _ => Saturation };
            if (v == 0) continue;
            var f = new float[n];
            float lo = Math.Max(0, 1 - v), hi = 1 + v;
            for (int i = 0; i < n; i++) f[i] = lo + (float)random.NextDouble() * (hi - lo);
            x = k switch
            {
                0 => Photometric.AdjustBrightness(x, f),
                1 => Photometric.AdjustContrast(x, f),
                _ => Photometric.AdjustSaturation(x, f),
            };
        }
        return ReferenceEquals(x, images) ? images.alias() : x;
    }
}
