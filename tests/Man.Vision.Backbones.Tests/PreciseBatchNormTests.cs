using Man.Vision.Backbones.Norm;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Tests;

public sealed class PreciseBatchNormTests
{
    private sealed class TwoBranches : nn.Module<Tensor, Tensor>
    {
        public readonly Conv2d conv;
        public readonly BatchNorm2d bn_a;
        public readonly BatchNorm2d bn_b;
        public readonly BatchNorm2d bn_eval;
        public readonly FrozenBatchNorm2d frozen;
        public bool UseB = true;

        public TwoBranches() : base(nameof(TwoBranches))
        {
            conv = nn.Conv2d(3, 4, 3, padding: 1);
            bn_a = nn.BatchNorm2d(3);
            bn_b = nn.BatchNorm2d(4);
            bn_eval = nn.BatchNorm2d(4);
            frozen = new FrozenBatchNorm2d(4);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var y = bn_a.forward(x);
            y = conv.forward(y);
            if (UseB) y = bn_b.forward(y);
            return frozen.forward(bn_eval.forward(y));
        }
    }

    [Fact]
    public void StatisticsBecomeTheMeansOfThePerBatchMeansAndUnbiasedVariances()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var model = new TwoBranches();
        model.train();
        model.bn_eval.eval();
        using (no_grad())
        {
            model.bn_eval.running_mean!.fill_(0.25);
            model.bn_eval.running_var!.fill_(2.0);
            model.frozen.RunningMean.fill_(0.5);
        }
        // Batches of different sizes and scales: the result is the plain mean over batches (fvcore), not weighted by size.
        var batches = new[] { randn(2, 3, 5, 5) * 2 + 1, randn(4, 3, 5, 5) - 3, randn(3, 3, 5, 5) * 0.5 };
        int layers = PreciseBatchNorm.Recompute(model, batches.Length, i => model.forward(batches[i]));
        Assert.Equal(2, layers);

        // Closed form for the first layer: per-channel mean and unbiased variance of each batch, averaged.
        var means = stack(batches.Select(b => b.mean([0, 2, 3])).ToArray()).mean([0]);
        var vars = stack(batches.Select(b => b.var([0, 2, 3], unbiased: true)).ToArray()).mean([0]);
        TensorAssert.Close(means, model.bn_a.running_mean!, 1e-5, "bn_a mean");
        TensorAssert.Close(vars, model.bn_a.running_var!, 1e-5, "bn_a var");
        // Momentum is restored; layers in eval mode and frozen ones keep their values.
        Assert.Equal(0.1, model.bn_a.momentum);
        Assert.Equal(0.1, model.bn_b.momentum);
        Assert.Equal(0.25f, model.bn_eval.running_mean!.mean().item<float>(), 6);
        Assert.Equal(2.0f, model.bn_eval.running_var!.mean().item<float>(), 6);
        Assert.Equal(0.5f, model.frozen.RunningMean.mean().item<float>(), 6);

        // The second layer sees the first one's training-mode output: recompute it by hand from the batches.
        var hidden = batches.Select(b =>
        {
            var n = (b - b.mean([0, 2, 3], keepdim: true)) / (b.var([0, 2, 3], unbiased: false, keepdim: true) + 1e-5).sqrt();
            n = n * model.bn_a.weight!.reshape(1, -1, 1, 1) + model.bn_a.bias!.reshape(1, -1, 1, 1);
            using var _ = no_grad();
            return model.conv.forward(n);
        }).ToArray();
        TensorAssert.Close(stack(hidden.Select(h => h.mean([0, 2, 3])).ToArray()).mean([0]), model.bn_b.running_mean!, 1e-5, "bn_b mean");
        TensorAssert.Close(stack(hidden.Select(h => h.var([0, 2, 3], unbiased: true)).ToArray()).mean([0]), model.bn_b.running_var!, 1e-4, "bn_b var");
    }

    [Fact]
    public void OneBatchRepeatedGivesItsStatisticsAndEvaluationThenNormalisesItToZeroMean()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var bn = nn.BatchNorm2d(3);
        bn.train();
        var x = randn(8, 3, 4, 4) * 3 + 2;
        // The pass draws random numbers (as dropout in training mode would); the global generator is put back afterwards.
        var state = torch.random.get_rng_state();
        var expectedNext = rand(3);
        torch.random.set_rng_state(state);
        Assert.Equal(1, PreciseBatchNorm.Recompute(bn, 5, _ => { rand(7); bn.forward(x); }));
        TensorAssert.Close(expectedNext, rand(3), 0, "the generator after the pass");
        TensorAssert.Close(x.mean([0, 2, 3]), bn.running_mean!, 1e-5, "mean");
        TensorAssert.Close(x.var([0, 2, 3], unbiased: true), bn.running_var!, 1e-4, "var");
        bn.eval();
        using (no_grad()) Assert.True(bn.forward(x).mean([0, 2, 3]).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void ALayerThePassDoesNotReachIsNamedAndNothingChanges()
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        var model = new TwoBranches();
        model.train();
        using (no_grad())
        {
            model.bn_a.running_mean!.fill_(0.75);
            model.bn_b.running_var!.fill_(3.0);
        }
        var x = randn(2, 3, 5, 5);
        var error = Assert.Throws<InvalidOperationException>(() => PreciseBatchNorm.Recompute(model, 3, i =>
        {
            model.UseB = i == 0; // batch 1 skips bn_b
            model.forward(x);
        }));
        Assert.Contains("batch 1", error.Message);
        Assert.Contains("'bn_b'", error.Message);
        Assert.Equal(0.75f, model.bn_a.running_mean!.mean().item<float>(), 6);
        Assert.Equal(3.0f, model.bn_b.running_var!.mean().item<float>(), 6);
        Assert.Equal(0.1, model.bn_b.momentum);
    }

    private sealed class Batch(Tensor x) : IDisposable
    {
        public Tensor X { get; } = x;
        public bool Disposed { get; private set; }
        public void Dispose() => Disposed = true;
    }

    [Fact]
    public void ABatchSourceIsTakenUpToTheCountEachBatchDisposedAndAShortOneNamed()
    {
        using var scope = NewDisposeScope();
        manual_seed(9);
        var bn = nn.BatchNorm2d(2);
        bn.train();
        var source = Enumerable.Range(0, 3).Select(i => new Batch(randn(4, 2, 3, 3) + i)).ToArray();
        Assert.Equal(1, PreciseBatchNorm.Recompute([bn], source, 2, b => bn.forward(b.X), "three batches"));
        Assert.Equal([true, true, false], source.Select(b => b.Disposed));
        TensorAssert.Close(stack(source.Take(2).Select(b => b.X.mean([0, 2, 3])).ToArray()).mean([0]), bn.running_mean!, 1e-5, "mean of the first two");
        var error = Assert.Throws<InvalidOperationException>(() => PreciseBatchNorm.Recompute([bn], source, 4, b => bn.forward(b.X), "three batches"));
        Assert.Contains("three batches gave only 3 of 4 batches", error.Message);
    }

    [Fact]
    public void AModelWithoutBatchNormInTrainingModeRunsNothing()
    {
        using var scope = NewDisposeScope();
        var bn = nn.BatchNorm2d(3);
        bn.eval();
        int calls = 0;
        Assert.Equal(0, PreciseBatchNorm.Recompute(bn, 4, _ => calls++));
        Assert.Equal(0, calls);
        Assert.Throws<ArgumentOutOfRangeException>(() => PreciseBatchNorm.Recompute(bn, 0, _ => { }));
    }
}
