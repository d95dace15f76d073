using Man.Cli.Commands;

namespace Man.Cli.Tests;

public sealed class GapClosedTests
{
    [Theory]
    // The MAN paper's CIFAR-10 ResNet-32 K = 8 numbers: E2E 6.37, DGL 11.63, DGL+MAN 8.42 → 61.0 % of the gap.
    [InlineData(6.37, 11.63, 8.42, 0.6102661596958175)]
    [InlineData(10, 20, 10, 1.0)]
    [InlineData(10, 20, 20, 0.0)]
    [InlineData(10, 20, 5, 1.5)]
    [InlineData(10, 20, 25, -0.5)]
    public void ShareOfTheGap(double e2e, double greedy, double method, double expected) =>
        Assert.Equal(expected, GapClosed.Share(e2e, greedy, method)!.Value, 12);

    [Fact]
    public void NoGapWhenGreedyIsNotBehind()
    {
        Assert.Null(GapClosed.Share(54.20, 54.10, 52.75));
        Assert.Null(GapClosed.Share(10, 10, 9));
        Assert.Throws<ArgumentException>(() => GapClosed.Share(double.NaN, 10, 9));
    }
}
