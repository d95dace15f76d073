namespace Man.Vision.Data.Loading;

/// <summary>Options of a <see cref="PrefetchLoader{TSample, TBatch}"/> (torch.utils.data.DataLoader's, where they exist).</summary>
public sealed record LoaderOptions
{
    private readonly int _batchSize = 1;
    private readonly int _workers = 1;
    private readonly int _prefetch = 2;

    /// <summary>Samples per batch (torch: 1). Must be ≥ 1.</summary>
    public int BatchSize
    {
        get => _batchSize;
        init => _batchSize = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(BatchSize), value, "BatchSize must be at least 1.");
    }

    /// <summary>Shuffle the order every epoch (a permutation drawn from <see cref="Seed"/> and the epoch number). Default false.</summary>
    public bool Shuffle { get; init; }

    /// <summary>Drop the last batch when it is smaller than <see cref="BatchSize"/> (torch: false).</summary>
    public bool DropLast { get; init; }

    /// <summary>The seed of the order and of every sample's and batch's random numbers. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>Background threads that build batches, 1..64 (default 1; the machine's cores are shared with the model).</summary>
    public int Workers
    {
        get => _workers;
        init => _workers = value is >= 1 and <= 64 ? value : throw new ArgumentOutOfRangeException(nameof(Workers), value, "Workers must be in 1..64.");
    }

    /// <summary>
    /// Batches that may be built ahead of the consumer (in flight or waiting), ≥ 1; default 2. The memory bound of the
    /// loader is about <c>Prefetch + 1</c> batches.
    /// </summary>
    public int Prefetch
    {
        get => _prefetch;
        init => _prefetch = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Prefetch), value, "Prefetch must be at least 1.");
    }
}
