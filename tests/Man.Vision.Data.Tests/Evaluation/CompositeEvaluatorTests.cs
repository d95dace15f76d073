using Man.Vision.Data.Evaluation;

namespace Man.Vision.Data.Tests.Evaluation;

/// <summary>The shared evaluator contract: composite merging, duplicate keys, batch checks and mapping.</summary>
public sealed class CompositeEvaluatorTests
{
    /// <summary>Accuracy of integer predictions under a configurable key, counting calls.</summary>
    private sealed class AccuracyEvaluator(string key) : IEvaluator<int, int>
    {
        private int _correct, _total;

        public int Resets { get; private set; }

        public void Reset() { _correct = _total = 0; Resets++; }

        public void Process(IReadOnlyList<int> inputs, IReadOnlyList<int> outputs)
        {
            EvaluatorGuards.CheckBatch(inputs, outputs);
            for (int i = 0; i < inputs.Count; i++) { _total++; if (inputs[i] == outputs[i]) _correct++; }
        }

        public IReadOnlyDictionary<string, double> Evaluate() =>
            new Dictionary<string, double> { [key] = _total == 0 ? double.NaN : (double)_correct / _total, [key + "_count"] = _total };
    }

    [Fact]
    public void MergesMetricsOfAllEvaluators()
    {
        var a = new AccuracyEvaluator("acc");
        var b = new AccuracyEvaluator("top1");
        var composite = new CompositeEvaluator<int, int>(a, b);
        composite.Reset();
        composite.Process([1, 2, 3], [1, 0, 3]);
        composite.Process([4], [4]);
        var m = composite.Evaluate();
        Assert.Equal(4, m.Count);
        Assert.Equal(0.75, m["acc"]);
        Assert.Equal(0.75, m["top1"]);
        Assert.Equal(4, m["acc_count"]);
        Assert.Equal(1, a.Resets);
        Assert.Equal(1, b.Resets);
    }

    [Fact]
    public void DuplicateKeysAreRejected()
    {
        var composite = new CompositeEvaluator<int, int>(new AccuracyEvaluator("acc"), new AccuracyEvaluator("acc"));
        composite.Process([1], [1]);
        var ex = Assert.Throws<InvalidOperationException>(() => composite.Evaluate());
        Assert.Contains("'acc'", ex.Message);
        Assert.Contains("#0", ex.Message);
        Assert.Contains("#1", ex.Message);
    }

    [Fact]
    public void BatchesMustPairInputsAndOutputs()
    {
        var composite = new CompositeEvaluator<int, int>(new AccuracyEvaluator("acc"));
        var ex = Assert.Throws<ArgumentException>(() => composite.Process([1, 2], [1]));
        Assert.Contains("2 inputs but 1 outputs", ex.Message);
    }

    [Fact]
    public void EmptyOrNullEvaluatorsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new CompositeEvaluator<int, int>());
        Assert.Throws<ArgumentException>(() => new CompositeEvaluator<int, int>(new AccuracyEvaluator("a"), null!));
    }

    [Fact]
    public void MapConvertsSamplesBeforeProcessing()
    {
        // Strings are parsed to ints for the input and their lengths taken for the output.
        var inner = new AccuracyEvaluator("acc");
        IEvaluator<string, string> mapped = inner.Map((string s) => int.Parse(s), (string s) => s.Length);
        var m = mapped.EvaluateAll(
        [
            (new[] { "3", "2" }, new[] { "abc", "abcd" }),
            (new[] { "1" }, new[] { "x" }),
        ]);
        Assert.Equal(2.0 / 3, m["acc"], 1e-15);
        Assert.Equal(3, m["acc_count"]);
        Assert.Equal(1, inner.Resets);
    }
}
