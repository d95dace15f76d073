using static TorchSharp.torch;

namespace Man.Vision.Classification.Training;

/// <summary>A batch of images [N, C, H, W] (float, normalised) and labels [N] (int64); disposing frees both.</summary>
public sealed class ClassificationBatch(Tensor images, Tensor labels, IDisposable? owner = null) : IDisposable
{
    /// <summary>Images [N, C, H, W].</summary>
    public Tensor Images { get; } = images;

    /// <summary>Labels [N].</summary>
    public Tensor Labels { get; } = labels;

    /// <summary>Number of samples.</summary>
    public int Count => (int)Labels.shape[0];

    /// <inheritdoc/>
    public void Dispose()
    {
        if (owner is not null) owner.Dispose();
        else
        {
            Images.Dispose();
            Labels.Dispose();
        }
    }
}

/// <summary>Where a run's batches come from: a deterministic sequence of batches for every epoch.</summary>
public interface IClassificationBatches
{
    /// <summary>Samples in the data set.</summary>
    int Samples { get; }

    /// <summary>Batches per epoch.</summary>
    int BatchesPerEpoch { get; }

    /// <summary>Class names, in label order.</summary>
    IReadOnlyList<string> Classes { get; }

    /// <summary>Shape of one image [C, H, W] as the model receives it.</summary>
    long[] SampleShape { get; }

    /// <summary>The batches of one epoch (the order depends only on the seed and the epoch).</summary>
    IEnumerable<ClassificationBatch> Epoch(int epoch, CancellationToken cancellationToken = default);
}
