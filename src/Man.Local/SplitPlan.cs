namespace Man.Local;

/// <summary>
/// How the units of a model are grouped into K consecutive local blocks. Block k covers units
/// <c>[Starts[k], Starts[k+1])</c>; K = 1 is end-to-end training.
/// </summary>
public sealed record SplitPlan
{
    /// <summary>The first unit of each block; <c>Starts[0] == 0</c>, strictly increasing.</summary>
    public IReadOnlyList<int> Starts { get; }

    /// <summary>Total number of units.</summary>
    public int UnitCount { get; }

    /// <summary>Number of blocks, K.</summary>
    public int K => Starts.Count;

    /// <summary>Creates a plan from the first unit of every block.</summary>
    /// <exception cref="ArgumentException">The starts do not describe K non-empty consecutive blocks of the units.</exception>
    public SplitPlan(IReadOnlyList<int> starts, int unitCount)
    {
        if (unitCount < 1) throw new ArgumentException($"A model needs at least one unit (got {unitCount}).", nameof(unitCount));
        if (starts.Count == 0 || starts[0] != 0)
            throw new ArgumentException("The first block must start at unit 0.", nameof(starts));
        for (int i = 1; i < starts.Count; i++)
            if (starts[i] <= starts[i - 1])
                throw new ArgumentException($"Block starts must increase strictly (got {string.Join(",", starts)}).", nameof(starts));
        if (starts[^1] >= unitCount)
            throw new ArgumentException(
                $"Block {starts.Count - 1} starts at unit {starts[^1]}, but the model has only {unitCount} units (0..{unitCount - 1}).", nameof(starts));
        Starts = starts.ToArray();
        UnitCount = unitCount;
    }

    /// <summary>First unit of block <paramref name="k"/>.</summary>
    public int Start(int k) => Starts[k];

    /// <summary>One past the last unit of block <paramref name="k"/>.</summary>
    public int End(int k) => k + 1 < K ? Starts[k + 1] : UnitCount;

    /// <summary>The block that holds unit <paramref name="unit"/>.</summary>
    public int BlockOf(int unit)
    {
        for (int k = K - 1; k >= 0; k--)
            if (unit >= Starts[k]) return k;
        throw new ArgumentOutOfRangeException(nameof(unit));
    }

    /// <summary>
    /// This plan, planned over the units after a <paramref name="prefix"/> of leading units (e.g. frozen ones), placed
    /// behind that prefix: the prefix joins the first block and the other starts move by it.
    /// </summary>
    public SplitPlan AfterPrefix(int prefix)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefix);
        return new SplitPlan(Starts.Select((s, i) => i == 0 ? 0 : s + prefix).ToArray(), UnitCount + prefix);
    }

    /// <summary>One block holding every unit: end-to-end training.</summary>
    public static SplitPlan Single(int unitCount) => new([0], unitCount);

    /// <summary>K blocks of (nearly) equal unit counts, the larger ones first.</summary>
    public static SplitPlan Uniform(int k, int unitCount)
    {
        CheckK(k, unitCount);
        var starts = new int[k];
        int size = unitCount / k, extra = unitCount % k, at = 0;
        for (int b = 0; b < k; b++)
        {
            starts[b] = at;
            at += size + (b < extra ? 1 : 0);
        }
        return new SplitPlan(starts, unitCount);
    }

    /// <summary>
    /// K consecutive blocks that minimise the largest block cost (e.g. the activation memory a block keeps for
    /// its backward pass), by exact dynamic programming over the unit costs.
    /// </summary>
    /// <param name="k">Number of blocks.</param>
    /// <param name="costs">One non-negative cost per unit.</param>
    /// <param name="boundaryCosts">
    /// Optional extra cost of a block that ends just before unit j (index j), e.g. the auxiliary network built at that
    /// boundary (MAN/MAN++ run two copies of unit j there); the last block has no boundary.
    /// </param>
    /// <param name="recompute">
    /// The block is recomputed (<see cref="LocalLearningOptions.RecomputeBlocks"/>): its graph and the boundary's are
    /// never alive together, so a block costs the larger of the two instead of their sum.
    /// </param>
    public static SplitPlan Balanced(int k, IReadOnlyList<double> costs, IReadOnlyList<double>? boundaryCosts = null, bool recompute = false)
    {
        int n = costs.Count;
        CheckCosts(k, costs, boundaryCosts);
        double Boundary(int end) => end < n && boundaryCosts is not null ? boundaryCosts[end] : 0;
        var prefix = Prefix(costs);
        return Best(k, n, (j, i) =>
        {
            double block = prefix[i] - prefix[j];
            return recompute ? Math.Max(block, Boundary(i)) : block + Boundary(i);
        }, Math.Max).Plan;
    }

    /// <summary>
    /// Exact dynamic programming over K consecutive blocks of n units: the split whose block values, combined with
    /// <paramref name="combine"/> (max for a min-max split, + for a least total), are smallest. A block value of +∞
    /// forbids that block.
    /// </summary>
    /// <param name="k">Number of blocks.</param>
    /// <param name="n">Number of units.</param>
    /// <param name="block">Value of the block of units [j, i).</param>
    /// <param name="combine">How the value so far and a block's value combine.</param>
    private static (double Value, SplitPlan Plan) Best(int k, int n, Func<int, int, double> block, Func<double, double, double> combine)
    {
        // best[b, i]: the best value of splitting the first i units into b blocks; cut[b, i]: start of the last block.
        var best = new double[k + 1, n + 1];
        var cut = new int[k + 1, n + 1];
        for (int b = 0; b <= k; b++)
            for (int i = 0; i <= n; i++) best[b, i] = double.PositiveInfinity;
        best[0, 0] = 0;
        for (int b = 1; b <= k; b++)
            for (int i = b; i <= n; i++)
                for (int j = b - 1; j < i; j++)
                {
                    if (double.IsPositiveInfinity(best[b - 1, j])) continue;
                    double v = combine(best[b - 1, j], block(j, i));
                    if (v < best[b, i]) { best[b, i] = v; cut[b, i] = j; }
                }
        if (double.IsPositiveInfinity(best[k, n])) throw new InvalidOperationException("No split satisfies the block limits.");
        var starts = new int[k];
        int end = n;
        for (int b = k; b >= 1; b--)
        {
            starts[b - 1] = cut[b, end];
            end = cut[b, end];
        }
        return (best[k, n], new SplitPlan(starts, n));
    }

    private static double[] Prefix(IReadOnlyList<double> values)
    {
        var prefix = new double[values.Count + 1];
        for (int i = 0; i < values.Count; i++) prefix[i + 1] = prefix[i] + values[i];
        return prefix;
    }

    private static void CheckCosts(int k, IReadOnlyList<double> costs, IReadOnlyList<double>? boundaryCosts)
    {
        int n = costs.Count;
        CheckK(k, n);
        if (costs.Any(c => c < 0 || double.IsNaN(c))) throw new ArgumentException("Unit costs must be non-negative numbers.", nameof(costs));
        if (boundaryCosts is not null && (boundaryCosts.Count != n || boundaryCosts.Any(c => c < 0 || double.IsNaN(c))))
            throw new ArgumentException($"Boundary costs must be {n} non-negative numbers, one per unit.", nameof(boundaryCosts));
    }

    /// <summary>
    /// A balanced split that recomputes only the blocks that need it. First the smallest achievable largest block cost
    /// M is found with every early block allowed to recompute (a recomputed block costs the larger of its graph and its
    /// boundary's auxiliary pass, a kept one the sum of its graph and its boundary's auxiliary network); then, among the
    /// splits whose every block stays within M, the one with the least extra work is chosen: recomputation (a block is
    /// recomputed only where keeping its graph through the auxiliary pass would exceed M) plus the auxiliary networks'
    /// <paramref name="boundaryWork"/>. Recomputation costs one more
    /// forward pass of the block, so the work of a block is the sum of its units' <paramref name="forwardCosts"/> (e.g.
    /// multiply-accumulates).
    /// </summary>
    /// <param name="k">Number of blocks.</param>
    /// <param name="costs">One non-negative memory cost per unit.</param>
    /// <param name="boundaryCosts">Memory cost of the auxiliary network at a boundary before unit j (see <see cref="Balanced"/>).</param>
    /// <param name="forwardCosts">One non-negative forward cost per unit.</param>
    /// <param name="outputCosts">
    /// Optional memory cost of each unit's output. The output gradient of an early block is alive during its auxiliary
    /// backward pass, so a kept block costs block + boundary + output and a recomputed one max(block, boundary + 2 · output)
    /// (its second pass hands the output gradient to the graph, which frees it after the first backward node).
    /// </param>
    /// <param name="slack">
    /// Relative memory allowed above M in the second step (0: exactly M). A little slack lets blocks that would exceed M
    /// by a few percent keep their graph instead of paying a whole recomputation.
    /// </param>
    /// <param name="cutBoundaryCosts">
    /// Optional memory cost of a recomputed block's auxiliary pass with the EMA branch cut out of its graph
    /// (<see cref="LocalLearningOptions.MomentumCutBlocks"/>); a recomputed block's auxiliary pass then costs the smaller
    /// of this and <paramref name="boundaryCosts"/>. <see cref="MomentumCuts"/> tells which blocks need the cut.
    /// </param>
    /// <param name="boundaryWork">
    /// Optional compute of the auxiliary network at a boundary before unit j, in the units of <paramref name="forwardCosts"/>
    /// (MAN/MAN++: the forward and backward passes of the two copies of unit j). Added to the work the second step
    /// minimises, so that among the splits within the bound the boundaries fall where the auxiliary networks are cheap.
    /// </param>
    /// <returns>The plan and the early blocks to recompute, in increasing order.</returns>
    public static (SplitPlan Plan, IReadOnlyList<int> Recomputed) BalancedWithRecompute(int k, IReadOnlyList<double> costs,
        IReadOnlyList<double>? boundaryCosts, IReadOnlyList<double> forwardCosts, double slack = 0, IReadOnlyList<double>? outputCosts = null,
        IReadOnlyList<double>? cutBoundaryCosts = null, IReadOnlyList<double>? boundaryWork = null)
    {
        int n = costs.Count;
        CheckCosts(k, costs, boundaryCosts);
        if (forwardCosts.Count != n || forwardCosts.Any(c => c < 0 || double.IsNaN(c)))
            throw new ArgumentException($"Forward costs must be {n} non-negative numbers, one per unit.", nameof(forwardCosts));
        if (slack < 0 || double.IsNaN(slack)) throw new ArgumentException($"The slack must be non-negative (got {slack}).", nameof(slack));
        if (boundaryWork is not null && (boundaryWork.Count != n || boundaryWork.Any(c => c < 0 || double.IsNaN(c))))
            throw new ArgumentException($"Boundary work must be {n} non-negative numbers, one per unit.", nameof(boundaryWork));
        double BoundaryWork(int end) => end < n && boundaryWork is not null ? boundaryWork[end] : 0;
        var model = new RecomputeCosts(costs, boundaryCosts, outputCosts, cutBoundaryCosts);
        var work = Prefix(forwardCosts);
        // Step 1: the smallest largest block cost, every early block free to recompute.
        double bound = Best(k, n, (j, i) => Math.Min(model.Kept(j, i), model.Recomputed(j, i, cut: true)), Math.Max).Value;
        // A relative tolerance so that the first step's plan itself is always feasible despite rounding.
        double limit = bound * (1 + slack + 1e-12);
        // Step 2: the least extra work (recomputation plus boundary work) among the splits within the limit.
        var plan = Best(k, n, (j, i) => model.Recomputed(j, i, cut: true) > limit ? double.PositiveInfinity
            : (model.Kept(j, i) > limit ? work[i] - work[j] : 0) + BoundaryWork(i), (a, b) => a + b).Plan;
        var recomputed = Enumerable.Range(0, k - 1).Where(b => model.Kept(plan.Start(b), plan.End(b)) > limit).ToArray();
        return (plan, recomputed);
    }

    /// <summary>
    /// The recomputed blocks of <paramref name="plan"/> whose auxiliary pass needs the EMA branch cut out of its graph:
    /// those whose uncut auxiliary pass (<paramref name="boundaryCosts"/>) would cost more than the plan's largest block
    /// with the cut allowed. Elsewhere the cut saves no peak memory and only costs one more EMA forward pass. The costs
    /// are those given to <see cref="BalancedWithRecompute"/>.
    /// </summary>
    /// <returns>The blocks to cut, in increasing order (a subset of <paramref name="recomputed"/>).</returns>
    public static IReadOnlyList<int> MomentumCuts(SplitPlan plan, IReadOnlyList<int> recomputed, IReadOnlyList<double> costs,
        IReadOnlyList<double>? boundaryCosts, IReadOnlyList<double>? cutBoundaryCosts, IReadOnlyList<double>? outputCosts = null)
    {
        if (plan.UnitCount != costs.Count) throw new ArgumentException($"The plan covers {plan.UnitCount} units but {costs.Count} costs were given.", nameof(costs));
        CheckCosts(plan.K, costs, boundaryCosts);
        var model = new RecomputeCosts(costs, boundaryCosts, outputCosts, cutBoundaryCosts);
        double Cost(int b, bool cut) => b + 1 == plan.K || !recomputed.Contains(b)
            ? model.Kept(plan.Start(b), plan.End(b))
            : model.Recomputed(plan.Start(b), plan.End(b), cut);
        double peak = Enumerable.Range(0, plan.K).Max(b => Cost(b, cut: true));
        return recomputed.Where(b => b + 1 < plan.K && Cost(b, cut: false) > peak * (1 + 1e-12)).Order().ToArray();
    }

    /// <summary>The memory cost model of <see cref="BalancedWithRecompute"/> and <see cref="MomentumCuts"/>.</summary>
    private sealed class RecomputeCosts
    {
        private readonly int n;
        private readonly double[] prefix;
        private readonly IReadOnlyList<double>? boundary, output, cutBoundary;

        public RecomputeCosts(IReadOnlyList<double> costs, IReadOnlyList<double>? boundaryCosts, IReadOnlyList<double>? outputCosts,
            IReadOnlyList<double>? cutBoundaryCosts)
        {
            n = costs.Count;
            if (outputCosts is not null && (outputCosts.Count != n || outputCosts.Any(c => c < 0 || double.IsNaN(c))))
                throw new ArgumentException($"Output costs must be {n} non-negative numbers, one per unit.", nameof(outputCosts));
            if (cutBoundaryCosts is not null && (cutBoundaryCosts.Count != n || cutBoundaryCosts.Any(c => c < 0 || double.IsNaN(c))))
                throw new ArgumentException($"Cut boundary costs must be {n} non-negative numbers, one per unit.", nameof(cutBoundaryCosts));
            prefix = Prefix(costs);
            boundary = boundaryCosts;
            output = outputCosts;
            cutBoundary = cutBoundaryCosts;
        }

        private double Boundary(int end) => end < n && boundary is not null ? boundary[end] : 0;

        private double CutBoundary(int end) => end < n && cutBoundary is not null ? Math.Min(cutBoundary[end], Boundary(end)) : Boundary(end);

        // An early block's output gradient is alive in its auxiliary backward pass (a recomputed block's second pass lets it go early).
        private double Out(int end) => end < n && output is not null ? output[end - 1] : 0;

        /// <summary>Block [j, i) keeping its graph through the auxiliary pass.</summary>
        public double Kept(int j, int i) => prefix[i] - prefix[j] + Boundary(i) + Out(i);

        /// <summary>Block [j, i) recomputed, its auxiliary pass with the EMA branch cut (<paramref name="cut"/>) or not.</summary>
        public double Recomputed(int j, int i, bool cut) => i == n
            ? prefix[i] - prefix[j]
            : Math.Max(prefix[i] - prefix[j], (cut ? CutBoundary(i) : Boundary(i)) + 2 * Out(i));
    }

    /// <summary>Parses "0,3,8" (block starts) into a plan.</summary>
    public static SplitPlan Parse(string starts, int unitCount)
    {
        var parts = starts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var values = new List<int>();
        foreach (var p in parts)
        {
            if (!int.TryParse(p, out int v))
                throw new ArgumentException($"Split '{starts}': '{p}' is not a unit index. Give the first unit of each block, e.g. 0,4,9.");
            values.Add(v);
        }
        return new SplitPlan(values, unitCount);
    }

    private static void CheckK(int k, int unitCount)
    {
        if (k < 1) throw new ArgumentException($"K must be at least 1 (got {k}).", nameof(k));
        if (k > unitCount)
            throw new ArgumentException($"K = {k} is larger than the number of units ({unitCount}): every local block needs at least one unit.", nameof(k));
    }

    /// <summary>Block <paramref name="block"/>'s units as "3" or "3-6".</summary>
    public string Describe(int block) => End(block) - Start(block) == 1 ? $"{Start(block)}" : $"{Start(block)}-{End(block) - 1}";

    /// <summary>The plan with the blocks of <paramref name="marked"/> followed by " (r)" (e.g. recomputed blocks).</summary>
    public string ToString(Func<int, bool> marked) =>
        string.Join(" | ", Enumerable.Range(0, K).Select(b => marked(b) ? Describe(b) + " (r)" : Describe(b)));

    /// <inheritdoc/>
    public override string ToString() => string.Join(" | ", Enumerable.Range(0, K).Select(Describe));
}
