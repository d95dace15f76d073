using System.Text;

namespace Man.Vision.Data.Diagnostics;

/// <summary>
/// A thread-safe warning summary shared by the readers of one data set: it counts documented repairs and
/// skipped inputs by kind and keeps a few example files of each, and applies the <see cref="OnBad"/> policy.
/// </summary>
/// <remarks>
/// Readers call <see cref="Repaired"/> for every documented repair (the sample is used) and
/// <see cref="Handle"/> for every problem that cannot be repaired: under <see cref="OnBad.Fail"/> the
/// exception is thrown, under <see cref="OnBad.Skip"/> it is counted and the caller leaves the input out.
/// Never a silent wrong sample: everything that is not used exactly as read shows up here.
/// </remarks>
public sealed class BadInputLog
{
    /// <summary>How many examples are kept per kind.</summary>
    public const int MaxExamples = 3;

    private readonly object _gate = new();
    private readonly Dictionary<(BadInputAction, string), Entry> _entries = [];
    private readonly List<(BadInputAction, string)> _order = [];

    /// <summary>Creates an empty log with the given policy.</summary>
    public BadInputLog(OnBad policy = OnBad.Fail) => Policy = policy;

    /// <summary>What happens to inputs that cannot be repaired.</summary>
    public OnBad Policy { get; }

    /// <summary>Total number of repairs.</summary>
    public int RepairCount { get { lock (_gate) return Sum(BadInputAction.Repaired); } }

    /// <summary>Total number of skipped inputs.</summary>
    public int SkipCount { get { lock (_gate) return Sum(BadInputAction.Skipped); } }

    /// <summary>True when nothing was repaired or skipped.</summary>
    public bool IsEmpty { get { lock (_gate) return _order.Count == 0; } }

    /// <summary>Counts a documented repair of <paramref name="file"/>.</summary>
    /// <param name="kind">A short stable key, e.g. <c>"extension-mismatch"</c>, <c>"rgba-to-rgb"</c>.</param>
    /// <param name="file">The file (or <c>archive!entry</c>) repaired.</param>
    /// <param name="detail">What was found and what was done.</param>
    public void Repaired(string kind, string file, string detail) => Add(BadInputAction.Repaired, kind, file, detail);

    /// <summary>Counts a skipped input (use <see cref="Handle"/> to apply the policy).</summary>
    public void Skipped(string kind, string file, string detail) => Add(BadInputAction.Skipped, kind, file, detail);

    /// <summary>
    /// Applies the policy to an input that cannot be used: throws <paramref name="problem"/> under
    /// <see cref="OnBad.Fail"/>; under <see cref="OnBad.Skip"/> counts it and returns, and the caller leaves the input out.
    /// </summary>
    public void Handle(BadInputException problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        if (Policy == OnBad.Fail) throw problem;
        Skipped(problem.Kind, problem.File, problem.Problem);
    }

    /// <summary>How often <paramref name="kind"/> happened with the given action.</summary>
    public int Count(string kind, BadInputAction action)
    {
        lock (_gate) return _entries.TryGetValue((action, kind), out var e) ? e.Count : 0;
    }

    /// <summary>The counts by kind, repairs first, each group in order of first occurrence.</summary>
    public IReadOnlyList<BadInputKindSummary> Summaries()
    {
        lock (_gate)
        {
            return _order.OrderBy(k => k.Item1)
                .Select(k => new BadInputKindSummary(k.Item1, k.Item2, _entries[k].Count, _entries[k].Examples.ToArray()))
                .ToArray();
        }
    }

    /// <summary>Adds every count and example of <paramref name="other"/> to this log (e.g. per-worker logs).</summary>
    public void Merge(BadInputLog other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(other, this)) return;
        foreach (var s in other.Summaries())
        {
            lock (_gate)
            {
                var e = GetEntry(s.Action, s.Kind);
                e.Count += s.Count;
                foreach (var ex in s.Examples)
                    if (e.Examples.Count < MaxExamples) e.Examples.Add(ex);
            }
        }
    }

    /// <summary>A multi-line human-readable summary; <c>"no repairs, no skips"</c> when empty.</summary>
    public override string ToString()
    {
        var all = Summaries();
        if (all.Count == 0) return "no repairs, no skips";
        var sb = new StringBuilder();
        sb.Append(RepairCount).Append(" repaired, ").Append(SkipCount).Append(" skipped");
        foreach (var s in all)
        {
            sb.AppendLine();
            sb.Append("  ").Append(s.Action == BadInputAction.Repaired ? "repaired " : "skipped  ")
              .Append(s.Kind).Append(" x").Append(s.Count).Append(": ").Append(string.Join("; ", s.Examples));
            if (s.Count > s.Examples.Count) sb.Append("; ...");
        }
        return sb.ToString();
    }

    private void Add(BadInputAction action, string kind, string file, string detail)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        lock (_gate)
        {
            var e = GetEntry(action, kind);
            e.Count++;
            if (e.Examples.Count < MaxExamples) e.Examples.Add($"{file}: {detail}");
        }
    }

    private Entry GetEntry(BadInputAction action, string kind)
    {
        if (!_entries.TryGetValue((action, kind), out var e))
        {
            e = new Entry();
            _entries.Add((action, kind), e);
            _order.Add((action, kind));
        }
        return e;
    }

    private int Sum(BadInputAction action) => _entries.Where(kv => kv.Key.Item1 == action).Sum(kv => kv.Value.Count);

    private sealed class Entry
    {
        public int Count;
        public List<string> Examples { get; } = [];
    }
}
