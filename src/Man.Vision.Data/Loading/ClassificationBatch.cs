using static TorchSharp.torch;

namespace Man.Vision.Data.Loading;

/// <summary>A batch of classification samples. The consumer owns it and disposes it (which disposes both tensors).</summary>
public sealed class ClassificationBatch : ILoaderBatch, ICountedBatch
{
    /// <summary>Creates the batch; it takes ownership of the tensors.</summary>
    /// <param name="images">[N, C, H, W] float32.</param>
    /// <param name="labels">[N] int64.</param>
    /// <param name="indices">The data set index of each sample.</param>
    public ClassificationBatch(Tensor images, Tensor labels, int[] indices)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(indices);
        if (images.dim() != 4 || labels.dim() != 1 || images.shape[0] != labels.shape[0] || labels.shape[0] != indices.Length)
            throw new ArgumentException($"Images [{string.Join(", ", images.shape)}], labels [{string.Join(", ", labels.shape)}] and {indices.Length} indices do not make a batch.");
        Images = images;
        Labels = labels;
        Indices = indices;
    }

    /// <summary>Images [N, C, H, W], float32, augmented and normalised.</summary>
    public Tensor Images { get; }

    /// <summary>Labels [N], int64.</summary>
    public Tensor Labels { get; }

    /// <summary>The data set index of each sample, in batch order.</summary>
    public int[] Indices { get; }

    /// <inheritdoc/>
    public int Count => Indices.Length;

    /// <inheritdoc/>
    public void DetachFromDisposeScope()
    {
        Images.DetachFromDisposeScope();
        Labels.DetachFromDisposeScope();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
