using Man.Vision.Classification.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Classification.Data;

/// <summary>
/// Batches over images held in one byte tensor [N, C, H, W]: seeded shuffling per epoch, optional CIFAR-style
/// augmentation (random crop with zero padding, horizontal flip) done on the whole batch at once, and
/// normalisation with per-channel mean and std.
/// </summary>
public sealed class TensorClassificationBatches : IClassificationBatches
{
    private readonly Tensor images;
    private readonly Tensor labels;
    private readonly float[] mean;
    private readonly float[] std;

    /// <summary>Creates the batches; the tensors are kept (not copied) and must outlive this object.</summary>
    public TensorClassificationBatches(Tensor images, Tensor labels, IReadOnlyList<string> classes, int batchSize, bool train,
        long seed, float[] mean, float[] std, int padding = 4)
    {
        if (images.dim() != 4 || images.dtype != ScalarType.Byte) throw new ArgumentException("images must be a byte tensor [N, C, H, W].");
        if (labels.shape[0] != images.shape[0]) throw new ArgumentException($"{images.shape[0]} images but {labels.shape[0]} labels.");
        if (batchSize < 1) throw new ArgumentException($"batch size must be positive (got {batchSize}).");
        this.images = images;
        this.labels = labels;
        Classes = classes;
        BatchSize = batchSize;
        Train = train;
        Seed = seed;
        this.mean = mean;
        this.std = std;
        Padding = padding;
    }

    /// <summary>Batch size.</summary>
    public int BatchSize { get; }

    /// <summary>Shuffle, augment and drop the last partial batch.</summary>
    public bool Train { get; }

    /// <summary>The seed of order and augmentation.</summary>
    public long Seed { get; }

    /// <summary>Zero padding of the random crop.</summary>
    public int Padding { get; }

    /// <inheritdoc/>
    public int Samples => (int)images.shape[0];

    /// <inheritdoc/>
    public int BatchesPerEpoch => Train ? Samples / BatchSize : (Samples + BatchSize - 1) / BatchSize;

    /// <inheritdoc/>
    public IReadOnlyList<string> Classes { get; }

    /// <inheritdoc/>
    public long[] SampleShape => images.shape.Skip(1).ToArray();

    /// <inheritdoc/>
    public IEnumerable<ClassificationBatch> Epoch(int epoch, CancellationToken cancellationToken = default)
    {
        var g = new Generator().manual_seed(Seed * 1_000_003 + epoch);
        using var order = Train ? torch.randperm(Samples, generator: g) : torch.arange(Samples, dtype: ScalarType.Int64);
        using var meanT = torch.tensor(mean).view(1, -1, 1, 1);
        using var stdT = torch.tensor(std).view(1, -1, 1, 1);
        for (int b = 0; b < BatchesPerEpoch; b++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Tensor x, y;
            using (var scope = NewDisposeScope())
            {
                long start = (long)b * BatchSize, end = Math.Min(Samples, start + BatchSize);
                var idx = order.narrow(0, start, end - start);
                var batch = images.index_select(0, idx).to(ScalarType.Float32).div_(255);
                if (Train) batch = Augment(batch, g);
                x = batch.sub_(meanT).div_(stdT).MoveToOuterDisposeScope();
                y = labels.index_select(0, idx).MoveToOuterDisposeScope();
            }
            yield return new ClassificationBatch(x.DetachFromDisposeScope(), y.DetachFromDisposeScope());
        }
    }

    private Tensor Augment(Tensor batch, Generator g)
    {
        long n = batch.shape[0], h = batch.shape[2], w = batch.shape[3];
        if (Padding > 0)
        {
            var padded = nn.functional.pad(batch, [Padding, Padding, Padding, Padding]);
            var offY = torch.randint(0, 2 * Padding + 1, [n], generator: g, dtype: ScalarType.Int64);
            var offX = torch.randint(0, 2 * Padding + 1, [n], generator: g, dtype: ScalarType.Int64);
            // Gather the crops with index arithmetic: rows = offY + arange(h), cols = offX + arange(w).
            var rows = (offY.view(n, 1) + torch.arange(h).view(1, h)).view(n, 1, h, 1).expand(n, batch.shape[1], h, w + 2 * Padding);
            var cropRows = padded.gather(2, rows);
            var cols = (offX.view(n, 1) + torch.arange(w).view(1, w)).view(n, 1, 1, w).expand(n, batch.shape[1], h, w);
            batch = cropRows.gather(3, cols);
        }
        var flip = torch.rand([n], generator: g) < 0.5;
        var flipped = batch.flip(3);
        return torch.where(flip.view(n, 1, 1, 1), flipped, batch);
    }
}
