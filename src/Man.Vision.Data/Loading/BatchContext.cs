namespace Man.Vision.Data.Loading;

/// <summary>What a collate function gets besides the samples.</summary>
/// <param name="BatchIndex">The batch's position in the epoch.</param>
/// <param name="Epoch">The epoch number.</param>
/// <param name="Indices">The data set indices of the samples that were loaded (skipped ones left out), in order.</param>
/// <param name="Seed">The batch's seed (what <see cref="Random"/> was seeded with); use it for a <c>torch.Generator</c>.</param>
/// <param name="Random">A generator private to this batch, seeded from (seed, epoch, batch index).</param>
public sealed record BatchContext(int BatchIndex, int Epoch, IReadOnlyList<int> Indices, int Seed, Random Random);
