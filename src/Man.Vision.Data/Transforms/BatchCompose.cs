using static TorchSharp.torch;

namespace Man.Vision.Data.Transforms;

/// <summary>Applies batch transforms in order (torchvision's <c>Compose</c>).</summary>
public sealed class BatchCompose : IBatchTransform
{
    /// <summary>Composes <paramref name="transforms"/>.</summary>
    public BatchCompose(params IBatchTransform[] transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        if (transforms.Any(t => t is null)) throw new ArgumentException("A transform in the list is null.", nameof(transforms));
        Transforms = transforms;
    }

    /// <summary>The transforms, in order.</summary>
    public IReadOnlyList<IBatchTransform> Transforms { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor images, Random random)
    {
        if (Transforms.Count == 0) return images.alias();
        var x = images;
        foreach (var t in Transforms) x = t.Apply(x, random);
        return x;
    }
}
