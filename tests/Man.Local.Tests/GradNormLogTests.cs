using Man.Local.Training;

namespace Man.Local.Tests;

public sealed class GradNormLogTests
{
    [Fact]
    public void Medians_and_clipped_counts_per_block_follow_the_recorded_steps()
    {
        var log = new GradNormLog(3, maxNorm: 2.0);
        log.Add([1.0, 5.0, double.NaN]);
        log.Add([3.0, 0.5, double.NaN]);
        log.Add([2.0, 4.0, 7.0]);
        log.Add([2.5, 9.0, double.NaN]);
        Assert.Equal(4, log.Steps);
        // Block 0: 1, 2, 2.5, 3 → 2.25; block 1: 0.5, 4, 5, 9 → 4.5; block 2: NaN steps (no gradient) left out → 7.
        Assert.Equal([2.25, 4.5, 7.0], log.MedianPerBlock()!);
        // Clipped when the norm exceeds the bound: 2.0 itself is not clipped.
        Assert.Equal([2, 3, 1], log.ClippedStepsPerBlock()!);
        Assert.Throws<ArgumentException>(() => log.Add([1.0, 2.0]));
    }

    [Fact]
    public void Without_clipping_nothing_is_recorded_or_reported()
    {
        var log = new GradNormLog(2, maxNorm: null);
        log.Add([]); // the trainer's LastGradNorms is empty without clipping
        Assert.Equal(0, log.Steps);
        Assert.Null(log.MedianPerBlock()!);
        Assert.Null(log.ClippedStepsPerBlock()!);
        Assert.Equal([double.NaN], new GradNormLog(1, 1.0).MedianPerBlock()!);
    }

    [Fact]
    public void Median_of_odd_even_and_empty_samples()
    {
        Assert.Equal(3.0, RunStatistics.Median([5.0, 1.0, 3.0]));
        Assert.Equal(2.5, RunStatistics.Median([4.0, 1.0, 3.0, 2.0]));
        Assert.True(double.IsNaN(RunStatistics.Median([])));
    }
}
