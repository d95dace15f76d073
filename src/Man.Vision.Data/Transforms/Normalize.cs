using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Data.Transforms;

/// <summary>torchvision's <c>Normalize(mean, std)</c>: <c>(x − mean[c]) / std[c]</c> per channel, on a batch [N, C, H, W].</summary>
public sealed class Normalize : IBatchTransform
{
    /// <summary>ImageNet statistics (torchvision's pretrained models).</summary>
    public static Normalize ImageNet { get; } = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>CIFAR-10 statistics as used by the InfoPro/MAN reference code (mean 125.3, 123.0, 113.9; std 63.0, 62.1, 66.7 over 255).</summary>
    public static Normalize Cifar10 { get; } = new([125.3f / 255f, 123.0f / 255f, 113.9f / 255f], [63.0f / 255f, 62.1f / 255f, 66.7f / 255f]);

    /// <summary>Fashion-MNIST statistics (mean 0.2860, std 0.3530).</summary>
    public static Normalize FashionMnist { get; } = new([0.2860f], [0.3530f]);

    /// <summary>Creates the transform.</summary>
    /// <exception cref="ArgumentException">The lists are empty, differ in length, or a std is not positive.</exception>
    public Normalize(float[] mean, float[] std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length == 0 || mean.Length != std.Length)
            throw new ArgumentException($"Mean and std need one value per channel, got {mean.Length} and {std.Length}.");
        if (std.Any(s => !(s > 0)))
            throw new ArgumentException($"Every std must be positive, got ({string.Join(", ", std)}).", nameof(std));
        Mean = mean.ToArray();
        Std = std.ToArray();
    }

    /// <summary>Per-channel means.</summary>
    public IReadOnlyList<float> Mean { get; }

    /// <summary>Per-channel standard deviations.</summary>
    public IReadOnlyList<float> Std { get; }

    /// <summary>The same statistics for a grayscale image replicated to 3 channels (or the reverse), when the counts differ.</summary>
    public Normalize ForChannels(int channels)
    {
        if (channels == Mean.Count) return this;
        if (Mean.Count == 1) return new(Enumerable.Repeat(Mean[0], channels).ToArray(), Enumerable.Repeat(Std[0], channels).ToArray());
        throw new ArgumentException($"Normalize has {Mean.Count} channel statistics, the images have {channels} channels.");
    }

    /// <inheritdoc/>
    public Tensor Apply(Tensor images, Random random) => Apply(images);

    /// <summary>Normalises <paramref name="images"/> ([N, C, H, W] or [C, H, W]); deterministic.</summary>
    public Tensor Apply(Tensor images)
    {
        long c = images.shape[^3];
        if (c != Mean.Count)
            throw new ArgumentException($"Normalize has {Mean.Count} channel statistics, the images have {c} channels.", nameof(images));
        using var scope = torch.NewDisposeScope();
        var mean = torch.tensor(Mean.ToArray(), device: images.device).view(-1, 1, 1);
        var std = torch.tensor(Std.ToArray(), device: images.device).view(-1, 1, 1);
        return images.sub(mean).div(std).MoveToOuterDisposeScope();
    }
}
