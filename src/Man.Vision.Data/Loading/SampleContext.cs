namespace Man.Vision.Data.Loading;

/// <summary>What a sample function gets besides the index: the epoch and a random generator seeded from (seed, epoch, index).</summary>
/// <param name="Index">The data set index of the sample.</param>
/// <param name="Epoch">The epoch number.</param>
/// <param name="Seed">The sample's seed (what <see cref="Random"/> was seeded with); use it for a <c>torch.Generator</c>.</param>
/// <param name="Random">A generator private to this sample: the same numbers whichever worker loads it.</param>
public sealed record SampleContext(int Index, int Epoch, int Seed, Random Random);
