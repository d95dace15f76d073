using Man.Vision.Detection.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Anchors;

/// <summary>
/// Anchors for a set of feature maps, as torchvision's <c>AnchorGenerator</c>: level l has anchors of every
/// (ratio, size) pair of <c>Sizes[l] × AspectRatios[l]</c> centred on the grid <c>arange(W_l)·stride</c>.
/// </summary>
/// <remarks>
/// Base anchors: with h_ratio = sqrt(ratio), w_ratio = 1 / h_ratio, w = w_ratio·size, h = h_ratio·size, the anchor is
/// <c>round([−w, −h, w, h] / 2)</c> (ratio = height / width). The stride of a level is the padded batch size divided
/// (integer division) by the map size. Anchors are ordered by location (row-major) and, per location, ratio-major
/// then size, matching the channel order of the RPN head. Holds no weights, so it is not a module.
/// </remarks>
public sealed class AnchorGenerator
{
    /// <summary>Creates the generator; <paramref name="sizes"/> and <paramref name="aspectRatios"/> have one entry per level.</summary>
    /// <param name="sizes">Per level, anchor sides in pixels (torchvision FPN default: 32, 64, 128, 256, 512, one per level).</param>
    /// <param name="aspectRatios">Per level, ratios height/width (default 0.5, 1, 2 on every level).</param>
    public AnchorGenerator(IReadOnlyList<IReadOnlyList<double>> sizes, IReadOnlyList<IReadOnlyList<double>> aspectRatios)
    {
        if (sizes.Count == 0) throw new ArgumentException("At least one level of anchor sizes is needed.", nameof(sizes));
        if (sizes.Count != aspectRatios.Count)
            throw new ArgumentException($"{sizes.Count} levels of sizes but {aspectRatios.Count} levels of aspect ratios.", nameof(aspectRatios));
        for (int l = 0; l < sizes.Count; l++)
        {
            if (sizes[l].Count == 0 || sizes[l].Any(s => !(s > 0)))
                throw new ArgumentException($"Level {l}: anchor sizes must be positive and non-empty, got [{string.Join(", ", sizes[l])}].", nameof(sizes));
            if (aspectRatios[l].Count == 0 || aspectRatios[l].Any(r => !(r > 0)))
                throw new ArgumentException($"Level {l}: aspect ratios must be positive and non-empty, got [{string.Join(", ", aspectRatios[l])}].", nameof(aspectRatios));
        }
        Sizes = sizes.Select(s => (IReadOnlyList<double>)s.ToArray()).ToArray();
        AspectRatios = aspectRatios.Select(r => (IReadOnlyList<double>)r.ToArray()).ToArray();
        CellAnchors = Enumerable.Range(0, sizes.Count).Select(l => BaseAnchors(Sizes[l], AspectRatios[l])).ToArray();
    }

    /// <summary>torchvision's default for an FPN with five levels: sizes 32..512 (one per level), ratios 0.5, 1, 2.</summary>
    public static AnchorGenerator FpnDefault() => new(
        [[32], [64], [128], [256], [512]],
        Enumerable.Repeat<IReadOnlyList<double>>([0.5, 1.0, 2.0], 5).ToArray());

    /// <summary>Per level, anchor sides.</summary>
    public IReadOnlyList<IReadOnlyList<double>> Sizes { get; }

    /// <summary>Per level, aspect ratios (height / width).</summary>
    public IReadOnlyList<IReadOnlyList<double>> AspectRatios { get; }

    /// <summary>Per level, the base anchors <c>[A_l, 4]</c> as float32 values (x1, y1, x2, y2) around the origin.</summary>
    public IReadOnlyList<float[]> CellAnchors { get; }

    /// <summary>Number of levels.</summary>
    public int Levels => Sizes.Count;

    /// <summary>Anchors per location of each level (|sizes|·|ratios|).</summary>
    public IReadOnlyList<int> NumAnchorsPerLocation => Sizes.Select((s, l) => s.Count * AspectRatios[l].Count).ToArray();

    /// <summary>
    /// The anchors of every image: <c>[ΣH_l·W_l·A_l, 4]</c> xyxy, in level order (the same tensor for each image,
    /// since they share the padded size).
    /// </summary>
    /// <param name="images">The padded batch (its spatial size sets the strides).</param>
    /// <param name="featureMaps">One map <c>[B, C, H_l, W_l]</c> per level.</param>
    public IReadOnlyList<Tensor> Generate(ImageList images, IReadOnlyList<Tensor> featureMaps)
    {
        if (featureMaps.Count != Levels)
            throw new ArgumentException($"The anchor generator has {Levels} levels but got {featureMaps.Count} feature maps.", nameof(featureMaps));
        var sizes = featureMaps.Select(f => new ImageSize(f.shape[^2], f.shape[^1])).ToArray();
        Tensor anchors = GridAnchors(images.BatchSize, sizes, featureMaps[0].dtype, featureMaps[0].device);
        var result = new Tensor[images.ImageSizes.Count];
        for (int b = 0; b < result.Length; b++) result[b] = b == 0 ? anchors : anchors.alias();
        return result;
    }

    /// <summary>Anchors <c>[ΣH_l·W_l·A_l, 4]</c> for a padded batch of size <paramref name="batchSize"/> and the given map sizes.</summary>
    public Tensor GridAnchors(ImageSize batchSize, IReadOnlyList<ImageSize> featureSizes, ScalarType dtype, Device device)
    {
        if (featureSizes.Count != Levels)
            throw new ArgumentException($"The anchor generator has {Levels} levels but got {featureSizes.Count} feature sizes.", nameof(featureSizes));
        using var scope = NewDisposeScope();
        var levels = new List<Tensor>();
        for (int l = 0; l < Levels; l++)
        {
            var (h, w) = (featureSizes[l].Height, featureSizes[l].Width);
            if (h <= 0 || w <= 0) throw new ArgumentException($"Feature map {l} is empty ({h}×{w}).", nameof(featureSizes));
            long strideH = batchSize.Height / h, strideW = batchSize.Width / w;
            Tensor shiftsX = torch.arange(0, w, ScalarType.Int64, device) * strideW;
            Tensor shiftsY = torch.arange(0, h, ScalarType.Int64, device) * strideH;
            Tensor sy = shiftsY.view(h, 1).expand(h, w).reshape(-1);
            Tensor sx = shiftsX.view(1, w).expand(h, w).reshape(-1);
            Tensor shifts = torch.stack([sx, sy, sx, sy], 1).to(dtype);
            Tensor cell = torch.tensor(CellAnchors[l], [CellAnchors[l].Length / 4, 4]).to(dtype, device);
            levels.Add((shifts.view(-1, 1, 4) + cell.view(1, -1, 4)).reshape(-1, 4));
        }
        return torch.cat(levels, 0).MoveToOuterDisposeScope();
    }

    private static float[] BaseAnchors(IReadOnlyList<double> sizes, IReadOnlyList<double> ratios)
    {
        // float32 arithmetic in torchvision's order: h = sqrt(r), w = 1/h, ws = w·s, anchors = round([-ws,-hs,ws,hs]/2).
        var result = new float[ratios.Count * sizes.Count * 4];
        int k = 0;
        foreach (double ratio in ratios)
        {
            float hr = MathF.Sqrt((float)ratio);
            float wr = 1f / hr;
            foreach (double size in sizes)
            {
                float ws = wr * (float)size, hs = hr * (float)size;
                result[k++] = MathF.Round(-ws / 2, MidpointRounding.ToEven);
                result[k++] = MathF.Round(-hs / 2, MidpointRounding.ToEven);
                result[k++] = MathF.Round(ws / 2, MidpointRounding.ToEven);
                result[k++] = MathF.Round(hs / 2, MidpointRounding.ToEven);
            }
        }
        return result;
    }
}
