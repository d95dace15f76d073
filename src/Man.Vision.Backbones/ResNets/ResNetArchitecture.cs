namespace Man.Vision.Backbones.ResNets;

/// <summary>Recognises ResNet architectures from options or from the tensor names and shapes of a state dict.</summary>
public static class ResNetArchitecture
{
    /// <summary>The factory name of <paramref name="options"/> (ignoring classes, norm, dilation), or null for a custom one.</summary>
    public static string? NameOf(ResNetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var arch in ResNetFactory.Architectures)
        {
            var p = ResNetFactory.Options(arch);
            if (p.Block == options.Block && p.Stem == options.Stem && p.Groups == options.Groups && p.WidthPerGroup == options.WidthPerGroup
                && p.Layers.SequenceEqual(options.Layers) && p.StageWidths.SequenceEqual(options.StageWidths))
                return arch;
        }
        return null;
    }

    /// <summary>
    /// Describes the ResNet a state dict belongs to, e.g. "resnet50 (fc: 1000 classes)" or
    /// "custom ResNet (Bottleneck blocks [1, 1, 1, 1], groups 32, …)"; null when the names are not a ResNet's.
    /// </summary>
    /// <param name="shapes">Tensor name → shape (torchvision names, without prefixes).</param>
    public static string? Describe(IReadOnlyDictionary<string, long[]> shapes)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        if (!shapes.TryGetValue("conv1.weight", out var stem) || stem.Length != 4) return null;
        var layers = new List<int>();
        for (int s = 1; s <= 4; s++)
        {
            int b = 0;
            while (shapes.ContainsKey($"layer{s}.{b}.conv1.weight")) b++;
            if (b == 0) break;
            layers.Add(b);
        }
        if (layers.Count == 0) return null;
        var block = shapes.ContainsKey("layer1.0.conv3.weight") ? BlockKind.Bottleneck : BlockKind.Basic;
        var stemKind = stem[2] == 7 ? StemKind.ImageNet : StemKind.Cifar;
        long planes0 = stem[0];
        int groups = 1, widthPerGroup = 64;
        if (block == BlockKind.Bottleneck && shapes.TryGetValue("layer1.0.conv2.weight", out var c2) && c2.Length == 4 && c2[1] > 0)
        {
            long width = c2[0];
            groups = (int)(width / c2[1]);
            widthPerGroup = (int)(width / groups * 64 / planes0);
        }
        var widths = Enumerable.Range(1, layers.Count)
            .Select(s => shapes.TryGetValue($"layer{s}.0.conv1.weight", out var w) ? w : null)
            .ToList();
        var options = new ResNetOptions
        {
            Block = block,
            Layers = layers.ToArray(),
            Stem = stemKind,
            Groups = groups,
            WidthPerGroup = widthPerGroup,
            StageWidths = stemKind == StemKind.ImageNet && layers.Count == 4 ? [64, 128, 256, 512]
                        : stemKind == StemKind.Cifar && layers.Count == 3 ? [16, 32, 64]
                        : Enumerable.Range(0, layers.Count).Select(i => (int)(planes0 << i)).ToArray(),
        };
        string classes = shapes.TryGetValue("fc.weight", out var fc) && fc.Length == 2 ? $"fc: {fc[0]} classes" : "no fc";
        string? name = NameOf(options);
        return name is not null
            ? $"{name} ({classes})"
            : $"custom ResNet ({block} blocks [{string.Join(", ", layers)}], {stemKind} stem of {planes0} channels, groups {groups}, width per group {widthPerGroup}; {classes})";
    }
}
