using Man.Vision.Segmentation.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Tests.Training;

public sealed class PolyLearningRateTests
{
    [Fact]
    public void Poly_decay_sets_every_parameter_group()
    {
        using var a = nn.Linear(2, 2);
        using var b = nn.Linear(2, 2);
        using var sgd = optim.SGD([new TorchSharp.Modules.SGD.ParamGroup(a.parameters(), lr: 0.1), new TorchSharp.Modules.SGD.ParamGroup(b.parameters(), lr: 0.01)], 0.1);
        var schedule = new PolyLearningRate(sgd, maxIterations: 10);
        var groups = sgd.ParamGroups.ToArray();
        for (int t = 0; t <= 12; t++)
        {
            // lr_t = base·(1 − t/10)^0.9, 0 from t = 10 on; e.g. t = 5: 0.1·0.5^0.9 = 0.0535887.
            double f = Math.Pow(1 - Math.Min(t, 10) / 10.0, 0.9);
            Assert.Equal(0.1 * f, groups[0].LearningRate, 12);
            Assert.Equal(0.01 * f, groups[1].LearningRate, 12);
            if (t == 5) Assert.Equal(0.0535887, groups[0].LearningRate, 7);
            schedule.Step();
        }
    }

    [Fact]
    public void Warm_up_is_linear_then_poly_over_the_remaining_iterations()
    {
        using var a = nn.Linear(2, 2);
        using var sgd = optim.SGD(a.parameters(), 0.2);
        var schedule = new PolyLearningRate(sgd, maxIterations: 14, warmupIterations: 4, warmupFactor: 0.01, minLearningRate: 0.002);
        // t < 4: factor 0.01 + 0.99·t/4; t ≥ 4: (1 − (t − 4)/10)^0.9; lr = 0.002 + (0.2 − 0.002)·factor.
        double[] factors = [0.01, 0.2575, 0.505, 0.7525, 1, Math.Pow(0.9, 0.9), Math.Pow(0.8, 0.9)];
        foreach (double f in factors)
        {
            Assert.Equal(0.002 + 0.198 * f, sgd.ParamGroups.First().LearningRate, 12);
            schedule.Step();
        }
        schedule.SetIteration(14);
        Assert.Equal(0.002, sgd.ParamGroups.First().LearningRate, 12);
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        using var a = nn.Linear(2, 2);
        using var sgd = optim.SGD(a.parameters(), 0.2);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PolyLearningRate(sgd, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PolyLearningRate(sgd, 10, warmupIterations: 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PolyLearningRate(sgd, 10, power: -1));
    }
}
