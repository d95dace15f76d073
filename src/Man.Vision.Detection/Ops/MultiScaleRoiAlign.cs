using Man.Vision.Detection.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Ops;

/// <summary>
/// RoIAlign over a feature pyramid (torchvision's <c>MultiScaleRoIAlign</c>): each box is pooled from the level
/// chosen by the <see cref="LevelMapper"/>, with <c>aligned = false</c>.
/// </summary>
/// <remarks>
/// As in torchvision the scale of each level is inferred from its size against the largest image of the batch and
/// rounded to a power of two (so it equals 1/stride); k_min and k_max come from the first and last of the named maps.
/// It holds no weights, so it is not a module.
/// </remarks>
public sealed class MultiScaleRoiAlign
{
    /// <summary>Creates the pooler.</summary>
    /// <param name="featureNames">Names of the feature maps to pool from, finest first (torchvision: "0".."3").</param>
    /// <param name="outputSize">Output side (7).</param>
    /// <param name="samplingRatio">Samples per bin along each axis (2); ≤ 0 for adaptive.</param>
    /// <param name="canonicalScale">See <see cref="LevelMapper"/> (224).</param>
    /// <param name="canonicalLevel">See <see cref="LevelMapper"/> (4).</param>
    public MultiScaleRoiAlign(IReadOnlyList<string> featureNames, int outputSize = 7, int samplingRatio = 2,
        int canonicalScale = 224, int canonicalLevel = 4)
    {
        if (featureNames.Count == 0) throw new ArgumentException("At least one feature map name is needed.", nameof(featureNames));
        if (featureNames.Distinct().Count() != featureNames.Count)
            throw new ArgumentException($"Feature map names repeat: {string.Join(", ", featureNames)}.", nameof(featureNames));
        if (outputSize < 1) throw new ArgumentOutOfRangeException(nameof(outputSize), outputSize, "The output size must be at least 1.");
        FeatureNames = featureNames.ToArray();
        OutputSize = outputSize;
        SamplingRatio = samplingRatio;
        CanonicalScale = canonicalScale;
        CanonicalLevel = canonicalLevel;
    }

    /// <summary>Names of the pooled feature maps, finest first.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Output side.</summary>
    public int OutputSize { get; }

    /// <summary>Samples per bin along each axis.</summary>
    public int SamplingRatio { get; }

    /// <summary>Canonical box side of the level mapper.</summary>
    public int CanonicalScale { get; }

    /// <summary>Canonical level of the level mapper.</summary>
    public int CanonicalLevel { get; }

    /// <summary>Pools every box from its level.</summary>
    /// <param name="features">Feature maps by name <c>[B, C, H_l, W_l]</c> (extra maps are ignored).</param>
    /// <param name="boxes">Per image, boxes <c>[K_b, 4]</c> xyxy in (resized) image pixels.</param>
    /// <param name="imageSizes">Per image, its size before padding.</param>
    /// <returns>Pooled features <c>[ΣK_b, C, OutputSize, OutputSize]</c> in image then box order.</returns>
    public Tensor Forward(IReadOnlyDictionary<string, Tensor> features, IReadOnlyList<Tensor> boxes, IReadOnlyList<ImageSize> imageSizes)
    {
        var maps = new List<Tensor>();
        foreach (string name in FeatureNames)
        {
            if (!features.TryGetValue(name, out Tensor? map))
                throw new ArgumentException($"Feature map '{name}' is missing; got {string.Join(", ", features.Keys)}.", nameof(features));
            maps.Add(map);
        }
        if (boxes.Count != maps[0].shape[0])
            throw new ArgumentException($"{boxes.Count} box lists for a batch of {maps[0].shape[0]} images.", nameof(boxes));
        var (scales, mapper) = SetupScales(maps, imageSizes);

        using var scope = NewDisposeScope();
        Tensor rois = RoiAlign.ToRoiFormat(boxes, maps[0].dtype, maps[0].device);
        if (maps.Count == 1)
            return RoiAlign.Apply(maps[0], rois, OutputSize, OutputSize, scales[0], SamplingRatio, aligned: false).MoveToOuterDisposeScope();

        long[] levels = mapper.Map(boxes).cpu().data<long>().ToArray();
        var parts = new List<Tensor>();
        var order = new List<long>();
        for (int level = 0; level < maps.Count; level++)
        {
            long[] inLevel = Enumerable.Range(0, levels.Length).Where(i => levels[i] == level).Select(i => (long)i).ToArray();
            if (inLevel.Length == 0) continue;
            order.AddRange(inLevel);
            Tensor levelRois = rois.index_select(0, torch.tensor(inLevel, ScalarType.Int64, rois.device));
            parts.Add(RoiAlign.Apply(maps[level], levelRois, OutputSize, OutputSize, scales[level], SamplingRatio, aligned: false));
        }
        if (parts.Count == 0)
            return torch.zeros([0, maps[0].shape[1], OutputSize, OutputSize], maps[0].dtype, maps[0].device).MoveToOuterDisposeScope();
        Tensor stacked = torch.cat(parts, 0);
        var inverse = new long[levels.Length];
        for (int i = 0; i < order.Count; i++) inverse[order[i]] = i;
        return stacked.index_select(0, torch.tensor(inverse, ScalarType.Int64, rois.device)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The scale of each level (a power of two inferred from the map size against the largest image, as torchvision's
    /// <c>_infer_scale</c>) and the level mapper spanning them.
    /// </summary>
    public (double[] Scales, LevelMapper Mapper) SetupScales(IReadOnlyList<Tensor> maps, IReadOnlyList<ImageSize> imageSizes)
    {
        if (imageSizes.Count == 0) throw new ArgumentException("The list of image sizes is empty.", nameof(imageSizes));
        long maxH = imageSizes.Max(s => s.Height), maxW = imageSizes.Max(s => s.Width);
        var scales = new double[maps.Count];
        for (int i = 0; i < maps.Count; i++)
        {
            // The first axis decides, as torchvision does; the ratio is rounded through float32 like torch.tensor(approx).
            float approx = (float)(maps[i].shape[^2] / (double)maxH);
            scales[i] = Math.Pow(2, Math.Round(Math.Log2(approx), MidpointRounding.ToEven));
        }
        int lvlMin = (int)(-Math.Log2(scales[0]));
        int lvlMax = (int)(-Math.Log2(scales[^1]));
        return (scales, new LevelMapper(lvlMin, lvlMax, CanonicalScale, CanonicalLevel));
    }
}
