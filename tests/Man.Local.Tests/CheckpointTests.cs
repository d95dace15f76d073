using Man.Local;
using Man.Local.Training;
using static TorchSharp.torch;

namespace Man.Local.Tests;

public sealed class CheckpointTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("man-ckpt-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static TrainerOptions Options() => new()
    {
        Schedule = new LearningRateSchedule { Kind = ScheduleKind.Cosine, BaseLr = 0.05, TotalSteps = 10, WarmupSteps = 2 },
        Seed = 42,
    };

    [Theory]
    [InlineData(LocalMethod.ManPlusPlus)]
    [InlineData(LocalMethod.InfoPro)]
    public void Round_trip_reproduces_the_next_step_exactly(LocalMethod method)
    {
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir, "a.ckpt");
        var (net, _, learner) = Toy.Build(method, 3, seed: 1);
        using var trainer = new LocalTrainer<Tensor>(learner, Options());
        for (int i = 0; i < 3; i++)
        {
            var (x, y) = Toy.Batch(i);
            trainer.TrainStep(x, y);
        }
        trainer.Epoch = 1;
        trainer.Save(path, new Dictionary<string, string> { ["arch"] = "toy" });
        var (nx, ny) = Toy.Batch(99);
        var expected = trainer.TrainStep(nx, ny);
        var expectedParams = Toy.Snapshot(learner);

        // A fresh run with another initialisation, resumed from the checkpoint.
        var (_, _, learner2) = Toy.Build(method, 3, seed: 2);
        using var trainer2 = new LocalTrainer<Tensor>(learner2, Options());
        trainer2.Load(path);
        Assert.Equal(3, trainer2.Step);
        Assert.Equal(1, trainer2.Epoch);
        Assert.Equal("toy", LocalTrainer<Tensor>.ReadMeta(path)["arch"]);
        var actual = trainer2.TrainStep(nx, ny);
        Assert.Equal(expected.BlockLosses, actual.BlockLosses);
        Assert.Equal(expected.S, actual.S);
        foreach (var (name, t) in Toy.Snapshot(learner2))
            Assert.True(Toy.MaxAbsDiff(t, expectedParams[name]) == 0, $"{name} differs after the resumed step");
    }

    [Fact]
    public void Truncated_foreign_and_mismatched_checkpoints_give_clear_errors()
    {
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir, "b.ckpt");
        var (_, _, learner) = Toy.Build(LocalMethod.ManPlusPlus, 3);
        using var trainer = new LocalTrainer<Tensor>(learner, Options());
        trainer.Save(path);

        string truncated = Path.Combine(dir, "truncated.ckpt");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var e1 = Assert.Throws<CheckpointException>(() => trainer.Load(truncated));
        Assert.Contains("truncated", e1.Message);
        Assert.Contains("truncated.ckpt", e1.Message);

        string foreign = Path.Combine(dir, "foreign.pth");
        File.WriteAllBytes(foreign, "PK\u0003\u0004 not ours"u8.ToArray());
        Assert.Contains("not a Man.Vision checkpoint", Assert.Throws<CheckpointException>(() => trainer.Load(foreign)).Message);

        string corrupt = Path.Combine(dir, "corrupt.ckpt");
        bytes[^10] ^= 0xFF;
        File.WriteAllBytes(corrupt, bytes);
        Assert.Contains("corrupt", Assert.Throws<CheckpointException>(() => trainer.Load(corrupt)).Message);

        var (_, _, other) = Toy.Build(LocalMethod.Greedy, 3);
        using var otherTrainer = new LocalTrainer<Tensor>(other, Options());
        Assert.Contains("method 'manpp'", Assert.Throws<CheckpointException>(() => otherTrainer.Load(path)).Message);

        Assert.Contains("no such checkpoint", Assert.Throws<CheckpointException>(() => trainer.Load(Path.Combine(dir, "missing.ckpt"))).Message);
        // Nothing was written under a temporary name left behind.
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
    }

    [Fact]
    public void Schedule_is_a_function_of_the_step()
    {
        var s = new LearningRateSchedule { Kind = ScheduleKind.Cosine, BaseLr = 0.1, TotalSteps = 12, WarmupSteps = 2 };
        Assert.Equal(0.05, s.At(0), 12);
        Assert.Equal(0.1, s.At(1), 12);
        Assert.Equal(0.1, s.At(2), 12);
        Assert.Equal(0.05, s.At(7), 12);
        Assert.Equal(0.0, s.At(12), 12);
        var p = new LearningRateSchedule { Kind = ScheduleKind.Poly, BaseLr = 0.01, TotalSteps = 100, Power = 0.9 };
        Assert.Equal(0.01 * Math.Pow(0.5, 0.9), p.At(50), 12);
    }
}

public sealed class GradientClearingTests
{
    [Theory]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.AdamW)]
    public void Gradients_are_dropped_between_steps_and_parameters_without_one_do_not_move(OptimizerKind kind)
    {
        using var scope = NewDisposeScope();
        var (_, _, learner) = Toy.Build(LocalMethod.ManPlusPlus, 3, seed: 1);
        using var trainer = new LocalTrainer<Tensor>(learner, new TrainerOptions
        {
            Optimizer = kind, WeightDecay = 0.1,
            Schedule = new LearningRateSchedule { Kind = ScheduleKind.Constant, BaseLr = 0.05, TotalSteps = 10 },
        });
        var (x, y) = Toy.Batch(0);
        trainer.TrainStep(x, y);
        var trainable = learner.TrainableParameters().ToList();
        Assert.All(trainable, p => Assert.NotNull(p.grad));
        trainer.ClearGradients();
        Assert.All(trainable, p => Assert.Null(p.grad));
        // With weight decay 0.1 every parameter would move if the optimizer did not skip those without a gradient.
        var before = Toy.Snapshot(learner);
        trainer.Optimizer.step();
        foreach (var (name, t) in Toy.Snapshot(learner))
            Assert.True(Toy.MaxAbsDiff(t, before[name]) == 0, $"{name} moved without a gradient");
    }
}

public sealed class FusionScalarRangeTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void S_is_projected_onto_0_2_after_each_step_unless_disabled(bool clamp)
    {
        using var scope = NewDisposeScope();
        var (_, _, learner) = Toy.Build(LocalMethod.ManPlusPlus, 3, seed: 1, clampS: clamp);
        using var trainer = new LocalTrainer<Tensor>(learner, new TrainerOptions
        {
            Schedule = new LearningRateSchedule { Kind = ScheduleKind.Constant, BaseLr = 1e-4, TotalSteps = 10 },
        });
        using (no_grad())
        {
            learner.Auxiliaries[0].S!.fill_(3.5);
            learner.Auxiliaries[1].S!.fill_(-1.0);
        }
        var (x, y) = Toy.Batch(0);
        trainer.TrainStep(x, y);
        double s0 = learner.SValues[0], s1 = learner.SValues[1];
        if (clamp)
        {
            Assert.Equal(2.0, s0);
            Assert.Equal(0.0, s1);
        }
        else
        {
            // A step of lr 1e-4 moves s by far less than the distance to the range.
            Assert.InRange(s0, 3.4, 3.6);
            Assert.InRange(s1, -1.1, -0.9);
        }
    }
}
