using Man.Local;

namespace Man.Local.Tests;

public sealed class SplitPlanTests
{
    [Fact]
    public void Uniform_puts_larger_blocks_first()
    {
        var p = SplitPlan.Uniform(3, 8);
        Assert.Equal([0, 3, 6], p.Starts);
        Assert.Equal(8, p.End(2));
        Assert.Equal("0-2 | 3-5 | 6-7", p.ToString());
    }

    [Theory]
    [InlineData(2, false, false)]
    [InlineData(3, false, false)]
    [InlineData(4, false, false)]
    [InlineData(3, true, false)]
    [InlineData(5, true, false)]
    [InlineData(3, true, true)]
    [InlineData(4, true, true)]
    public void Balanced_is_optimal_against_brute_force(int k, bool withBoundaries, bool recompute)
    {
        var rnd = new Random(k);
        var costs = Enumerable.Range(0, 9).Select(_ => (double)rnd.Next(1, 50)).ToArray();
        var boundary = withBoundaries ? costs.Select(c => 2 * c).ToArray() : null;
        var plan = SplitPlan.Balanced(k, costs, boundary, recompute);
        double Max(IReadOnlyList<int> starts) => Enumerable.Range(0, starts.Count)
            .Max(b =>
            {
                int end = b + 1 < starts.Count ? starts[b + 1] : costs.Length;
                double block = costs[starts[b]..end].Sum(), aux = boundary is not null && end < costs.Length ? boundary[end] : 0;
                // Recomputed blocks never hold their graph and the auxiliary network's together.
                return recompute ? Math.Max(block, aux) : block + aux;
            });
        double best = double.MaxValue;
        foreach (var starts in Combinations(1, costs.Length - 1, k - 1))
            best = Math.Min(best, Max([0, .. starts]));
        Assert.Equal(best, Max(plan.Starts));
    }

    [Fact]
    public void Bad_plans_are_rejected_with_reasons()
    {
        Assert.Contains("start at unit 0", Assert.Throws<ArgumentException>(() => new SplitPlan([1, 3], 5)).Message);
        Assert.Contains("increase strictly", Assert.Throws<ArgumentException>(() => new SplitPlan([0, 3, 3], 5)).Message);
        Assert.Contains("only 5 units", Assert.Throws<ArgumentException>(() => new SplitPlan([0, 5], 5)).Message);
        Assert.Contains("not a unit index", Assert.Throws<ArgumentException>(() => SplitPlan.Parse("0,a", 5)).Message);
        Assert.Equal([0, 2, 4], SplitPlan.Parse("0, 2,4", 5).Starts);
    }

    [Fact]
    public void Method_names_parse_and_unknown_lists_valid()
    {
        Assert.Equal(LocalMethod.ManPlusPlus, LocalMethods.Parse("manpp"));
        Assert.Equal(LocalMethod.ManPlusPlus, LocalMethods.Parse("MAN++"));
        Assert.Equal("greedy", LocalMethod.Greedy.Name());
        var e = Assert.Throws<ArgumentException>(() => LocalMethods.Parse("dgl2"));
        Assert.Contains("e2e, greedy, infopro, man, manpp", e.Message);
    }

    private static IEnumerable<int[]> Combinations(int from, int to, int count)
    {
        if (count == 0) { yield return []; yield break; }
        for (int i = from; i <= to; i++)
            foreach (var rest in Combinations(i + 1, to, count - 1))
                yield return [i, .. rest];
    }
}
