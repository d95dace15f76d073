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

    [Fact]
    public void A_plan_after_a_prefix_folds_the_prefix_into_its_first_block()
    {
        var p = SplitPlan.Uniform(4, 6).AfterPrefix(3); // planned over units 3..8 of 9
        Assert.Equal([0, 5, 7, 8], p.Starts);
        Assert.Equal(9, p.UnitCount);
        Assert.Equal("0-4 | 5-6 | 7 | 8", p.ToString());
        Assert.Equal(SplitPlan.Uniform(2, 5).Starts, SplitPlan.Uniform(2, 5).AfterPrefix(0).Starts);
        Assert.Throws<ArgumentOutOfRangeException>(() => SplitPlan.Uniform(2, 5).AfterPrefix(-1));
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

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Selective_recompute_keeps_the_bound_with_the_least_work_against_brute_force(int k)
    {
        var rnd = new Random(10 + k);
        var costs = Enumerable.Range(0, 9).Select(_ => (double)rnd.Next(1, 50)).ToArray();
        var boundary = costs.Select(c => 2 * c).ToArray();
        var work = Enumerable.Range(0, 9).Select(_ => (double)rnd.Next(1, 20)).ToArray();
        var (plan, recomputed) = SplitPlan.BalancedWithRecompute(k, costs, boundary, work);
        (double Block, double Aux, double Work) Of(IReadOnlyList<int> starts, int b)
        {
            int end = b + 1 < starts.Count ? starts[b + 1] : costs.Length;
            return (costs[starts[b]..end].Sum(), end < costs.Length ? boundary[end] : 0, work[starts[b]..end].Sum());
        }
        // The bound: the best largest cost when every block may recompute.
        double bound = double.MaxValue;
        foreach (var starts in Combinations(1, costs.Length - 1, k - 1))
            bound = Math.Min(bound, Enumerable.Range(0, k).Max(b => Math.Max(Of([0, .. starts], b).Block, Of([0, .. starts], b).Aux)));
        // The least work among the splits within it (a block recomputes only if keeping its graph would exceed the bound).
        double leastWork = double.MaxValue;
        foreach (var starts in Combinations(1, costs.Length - 1, k - 1))
        {
            var blocks = Enumerable.Range(0, k).Select(b => Of([0, .. starts], b)).ToArray();
            if (blocks.Any(x => Math.Max(x.Block, x.Aux) > bound)) continue;
            leastWork = Math.Min(leastWork, blocks.Where(x => x.Block + x.Aux > bound).Sum(x => x.Work));
        }
        var chosen = Enumerable.Range(0, k).Select(b => Of(plan.Starts, b)).ToArray();
        Assert.Equal(bound, Enumerable.Range(0, k).Max(b => recomputed.Contains(b) ? Math.Max(chosen[b].Block, chosen[b].Aux) : chosen[b].Block + chosen[b].Aux));
        Assert.Equal(leastWork, recomputed.Sum(b => chosen[b].Work));
        Assert.DoesNotContain(k - 1, recomputed);
    }

    [Fact]
    public void Selective_recompute_closed_cases()
    {
        // The last unit alone (6) bounds the peak; the first block (3 + 1) fits under it without recomputation.
        var (plan, recomputed) = SplitPlan.BalancedWithRecompute(2, [1, 1, 1, 6], [0, 1, 1, 1], [1, 1, 1, 1]);
        Assert.Equal([0, 3], plan.Starts);
        Assert.Empty(recomputed);
        // Recomputation lowers the bound from 8 (kept: 7 + 1) to 7, and block 0 must be recomputed for it.
        (plan, recomputed) = SplitPlan.BalancedWithRecompute(2, [4, 3, 1, 1], [0, 8, 1, 2], [1, 1, 1, 1]);
        Assert.Equal([0, 2], plan.Starts);
        Assert.Equal([0], recomputed);
        Assert.Equal([0, 2], SplitPlan.Balanced(2, [4, 3, 1, 1], [0, 8, 1, 2]).Starts);
        Assert.Throws<ArgumentException>(() => SplitPlan.BalancedWithRecompute(2, [1, 1, 1], null, [1, 1]));
    }

    [Fact]
    public void The_EMA_branch_is_cut_only_where_the_uncut_auxiliary_pass_would_raise_the_peak()
    {
        // Block 0 = unit 0 (graph 4) recomputed; its auxiliary pass costs 6 uncut, 3 cut; the last block costs 2.
        var plan = new SplitPlan([0, 1], 3);
        Assert.Equal([0], SplitPlan.MomentumCuts(plan, [0], [4, 1, 1], [0, 6, 0], [0, 3, 0]));
        // Uncut 4 stays within the peak (block 0's own graph, 4): no cut.
        Assert.Empty(SplitPlan.MomentumCuts(plan, [0], [4, 1, 1], [0, 4, 0], [0, 3, 0]));
        // Output gradients count twice in a recomputed auxiliary pass: 4 + 2·1 = 6 > max(4, 3 + 2) = 5.
        Assert.Equal([0], SplitPlan.MomentumCuts(plan, [0], [4, 1, 1], [0, 4, 0], [0, 3, 0], [1, 1, 1]));
        // The second pass hands the output gradient to the graph, which frees it after the first backward node: block 0
        // recomputed costs its graph alone (4), so an uncut pass of 2.5 + 2·1 = 4.5 rises above the peak and is cut
        // (had the second pass held the gradient, 4 + 1 = 5 would be the peak and 4.5 would fit uncut).
        Assert.Equal([0], SplitPlan.MomentumCuts(plan, [0], [4, 1, 1], [0, 2.5, 0], [0, 1, 0], [1, 1, 1]));
        // Kept blocks never cut; a kept block's full auxiliary network sets the peak (0-1 kept: 5 + 9 = 14).
        Assert.Empty(SplitPlan.MomentumCuts(new SplitPlan([0, 2], 3), [], [4, 1, 1], [0, 6, 9], [0, 3, 4]));
        // With the cut allowed the planner lowers the bound: block 0 recomputed costs max(4, 3) = 4 instead of max(4, 6).
        var (chosen, recomputed) = SplitPlan.BalancedWithRecompute(2, [4, 1, 1], [0, 6, 6], [1, 1, 1], cutBoundaryCosts: [0, 3, 3]);
        Assert.Equal([0, 1], chosen.Starts);
        Assert.Equal([0], recomputed);
    }

    [Fact]
    public void Among_splits_within_the_bound_the_boundary_falls_where_the_auxiliary_network_is_cheapest()
    {
        // Four equal units, bound 2 (two blocks of two); with 50 % slack every split fits, and the boundary work decides.
        double[] costs = [1, 1, 1, 1], none = [0, 0, 0, 0], forward = [1, 1, 1, 1];
        Assert.Equal([0, 2], SplitPlan.BalancedWithRecompute(2, costs, none, forward, slack: 0.5, boundaryWork: [0, 10, 0, 10]).Plan.Starts);
        Assert.Equal([0, 1], SplitPlan.BalancedWithRecompute(2, costs, none, forward, slack: 0.5, boundaryWork: [0, 0, 10, 10]).Plan.Starts);
        Assert.Equal([0, 3], SplitPlan.BalancedWithRecompute(2, costs, none, forward, slack: 0.5, boundaryWork: [0, 10, 10, 0]).Plan.Starts);
        // Without slack only the balanced split fits, whatever its boundary costs.
        Assert.Equal([0, 2], SplitPlan.BalancedWithRecompute(2, costs, none, forward, boundaryWork: [0, 0, 10, 0]).Plan.Starts);
        Assert.Throws<ArgumentException>(() => SplitPlan.BalancedWithRecompute(2, costs, none, forward, boundaryWork: [0, 1]));
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
