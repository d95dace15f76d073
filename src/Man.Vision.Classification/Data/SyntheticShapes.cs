using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Classification.Data;

/// <summary>
/// The embedded default classification data set: 10 classes of procedurally drawn shapes and textures
/// (disc, square, ring, cross, triangle, stripes, diamond, X, checkerboard, two dots) at random position,
/// scale, rotation and colour on a noisy coloured background. Needs no download; deterministic per seed.
/// </summary>
public static class SyntheticShapes
{
    /// <summary>Class names in label order.</summary>
    public static readonly IReadOnlyList<string> Classes =
        ["disc", "square", "ring", "cross", "triangle", "stripes", "diamond", "x", "checker", "two-dots"];

    /// <summary>
    /// Generates <paramref name="count"/> images [N, 3, size, size] as bytes (0..255) with labels [N] (balanced classes).
    /// </summary>
    public static (Tensor Images, Tensor Labels) Generate(int count, int size, long seed)
    {
        if (count < 1) throw new ArgumentException($"count must be positive (got {count}).");
        if (size < 8) throw new ArgumentException($"size must be at least 8 (got {size}).");
        using var scope = NewDisposeScope();
        var g = new Generator().manual_seed(seed);
        var labels = (torch.arange(count, dtype: ScalarType.Int64) % Classes.Count)
            .index_select(0, torch.randperm(count, generator: g));
        // Drawn in chunks, so that the masks of all classes never exist for the whole set at once.
        const int chunk = 512;
        var parts = new List<Tensor>();
        for (int start = 0; start < count; start += chunk)
        {
            using var inner = NewDisposeScope();
            parts.Add(Draw(labels.narrow(0, start, Math.Min(chunk, count - start)), size, g).MoveToOuterDisposeScope());
        }
        return (torch.cat(parts, 0).MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    private static Tensor Draw(Tensor labels, int size, Generator g)
    {
        int n = (int)labels.shape[0];
        var lin = torch.linspace(-1, 1, size);
        var yy = lin.view(1, size, 1).expand(n, size, size);
        var xx = lin.view(1, 1, size).expand(n, size, size);
        Tensor U(Tensor t) => t.view(n, 1, 1);
        var cx = U(torch.rand(n, generator: g) * 0.6 - 0.3);
        var cy = U(torch.rand(n, generator: g) * 0.6 - 0.3);
        var r = U(torch.rand(n, generator: g) * 0.3 + 0.35);
        var theta = U(torch.rand(n, generator: g) * Math.PI);
        var dx = xx - cx;
        var dy = yy - cy;
        var u = dx * theta.cos() + dy * theta.sin();
        var v = -dx * theta.sin() + dy * theta.cos();
        var d = (dx * dx + dy * dy).sqrt();
        var w = r * 0.25;
        var masks = new[]
        {
            d < r,
            torch.maximum(u.abs(), v.abs()) < r * 0.8,
            (d - r * 0.8).abs() < w,
            ((u.abs() < w) | (v.abs() < w)) & (torch.maximum(u.abs(), v.abs()) < r),
            (v < r * 0.5) & (v > -r + 2 * u.abs() * 1.2),
            torch.sin(v * 10) > 0.2,
            u.abs() + v.abs() < r,
            ((u.abs() - v.abs()).abs() < w) & (torch.maximum(u.abs(), v.abs()) < r * 0.9),
            torch.sin(u * 7) * torch.sin(v * 7) > 0,
            (((u - r * 0.5).square() + v.square()).sqrt() < r * 0.35) | (((u + r * 0.5).square() + v.square()).sqrt() < r * 0.35),
        };
        var all = torch.stack(masks, 1).to(ScalarType.Float32); // [N, 10, H, W]
        var mask = all.gather(1, labels.view(n, 1, 1, 1).expand(n, 1, size, size)); // [N, 1, H, W]
        var fg = torch.rand([n, 3, 1, 1], generator: g);
        var bg = torch.rand([n, 3, 1, 1], generator: g);
        // Keep foreground and background apart in brightness so that the shape is always visible.
        var brighter = (fg.mean([1, 2, 3], keepdim: true) > bg.mean([1, 2, 3], keepdim: true)).to(ScalarType.Float32);
        fg = fg * 0.5 + 0.5 * brighter;
        bg = bg * 0.5 + 0.5 * (1 - brighter);
        var img = mask * fg + (1 - mask) * bg + torch.randn([n, 3, size, size], generator: g) * 0.08;
        return (img.clamp(0, 1) * 255).round().to(ScalarType.Byte);
    }
}
