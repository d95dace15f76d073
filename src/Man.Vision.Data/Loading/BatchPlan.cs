namespace Man.Vision.Data.Loading;

/// <summary>The order of an epoch: which data set indices go into which batch.</summary>
public static class BatchPlan
{
    /// <summary>
    /// The indices <c>0..count-1</c>, shuffled (Fisher–Yates with a generator seeded from (seed, epoch)) when asked,
    /// cut into batches of <paramref name="batchSize"/>; the last short batch is kept unless <paramref name="dropLast"/>.
    /// </summary>
    public static IReadOnlyList<int[]> Create(int count, int batchSize, bool shuffle, bool dropLast, long seed, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var order = Permutation(count, shuffle, seed, epoch);
        int full = count / batchSize;
        int n = dropLast || count % batchSize == 0 ? full : full + 1;
        var batches = new int[n][];
        for (int b = 0; b < n; b++)
            batches[b] = order.AsSpan(b * batchSize, Math.Min(batchSize, count - b * batchSize)).ToArray();
        return batches;
    }

    /// <summary>The epoch's order: <c>0..count-1</c>, or a seeded permutation of it.</summary>
    public static int[] Permutation(int count, bool shuffle, long seed, int epoch)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        if (!shuffle) return order;
        var rng = new Random(Seeds.Derive(seed, Seeds.OrderStream, epoch, 0));
        for (int i = count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
