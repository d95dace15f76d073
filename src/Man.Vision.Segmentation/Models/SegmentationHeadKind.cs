namespace Man.Vision.Segmentation.Models;

/// <summary>The main head of a segmenter.</summary>
public enum SegmentationHeadKind
{
    /// <summary>FCN: <see cref="Heads.FcnHead"/> on the last stage (torchvision <c>fcn_resnet*</c>).</summary>
    Fcn,

    /// <summary>DeepLabV3: <see cref="Heads.DeepLabHead"/> (ASPP) on the last stage (torchvision <c>deeplabv3_resnet*</c>).</summary>
    DeepLabV3,
}

/// <summary>Parsing and naming of <see cref="SegmentationHeadKind"/> as the CLI spells it.</summary>
public static class SegmentationHeadKinds
{
    /// <summary>The CLI names, in enum order.</summary>
    public static readonly IReadOnlyList<string> Names = ["fcn", "deeplabv3"];

    /// <summary>The CLI name of a head.</summary>
    public static string Name(this SegmentationHeadKind kind) => Names[(int)kind];

    /// <summary>Parses a CLI name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">The name is not one of <see cref="Names"/>.</exception>
    public static SegmentationHeadKind Parse(string name)
    {
        int i = Names.ToList().IndexOf(name.Trim().ToLowerInvariant());
        if (i < 0)
            throw new ArgumentException($"Unknown segmentation head '{name}'. Valid heads: {string.Join(", ", Names)}.", nameof(name));
        return (SegmentationHeadKind)i;
    }
}
