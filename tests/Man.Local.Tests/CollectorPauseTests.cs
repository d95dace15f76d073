using System.Runtime;
using Man.Local.Training;
using Man.Runtime;
using static TorchSharp.torch;

namespace Man.Local.Tests;

public sealed class CollectorPauseTests
{
    [Fact]
    public void A_training_step_runs_without_a_garbage_collection()
    {
        using var scope = NewDisposeScope();
        var (_, _, learner) = Toy.Build(LocalMethod.ManPlusPlus, 3);
        using var trainer = new LocalTrainer<Tensor>(learner, new TrainerOptions
        {
            Schedule = new LearningRateSchedule { Kind = ScheduleKind.Constant, BaseLr = 0.05, TotalSteps = 10 },
        });
        var (x, y) = Toy.Batch(3);
        trainer.TrainStep(x, y); // warm-up: first-call allocations
        var modes = new List<GCLatencyMode>();
        int[] collections = new int[3];
        learner.AfterBlockBackward += (_, _) =>
        {
            modes.Add(GCSettings.LatencyMode);
            if (modes.Count == 1) collections = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
            for (int i = 0; i < 20_000; i++) _ = new byte[64]; // 1.3 MB of garbage inside the step, as a data loader would make
        };
        long startedBefore = CollectorPause.RegionsStarted, brokenBefore = CollectorPause.RegionsBroken;
        var before = GCSettings.LatencyMode;
        trainer.TrainStep(x, y);
        int[] after = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];

        Assert.Equal(3, modes.Count); // one per block
        Assert.All(modes, m => Assert.Equal(GCLatencyMode.NoGCRegion, m));
        Assert.Equal(collections, after); // no collection between the first block's backward and the step's end
        Assert.Equal(startedBefore + 1, CollectorPause.RegionsStarted);
        Assert.Equal(brokenBefore, CollectorPause.RegionsBroken);
        Assert.Equal(before, GCSettings.LatencyMode);
    }

    [Fact]
    public void Pauses_nest_and_a_region_that_runs_out_of_budget_is_counted_not_thrown()
    {
        long started = CollectorPause.RegionsStarted, broken = CollectorPause.RegionsBroken;
        using (CollectorPause.Enter())
        {
            using (CollectorPause.Enter())
                Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
            Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode); // the inner pause leaves the outer region alone
        }
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        Assert.Equal(started + 1, CollectorPause.RegionsStarted);
        Assert.Equal(broken, CollectorPause.RegionsBroken);

        var keep = new List<byte[]>();
        using (CollectorPause.Enter(budgetBytes: 1 << 20))
            for (int i = 0; i < 64; i++) keep.Add(new byte[1 << 20]); // 64 MiB against a 1 MiB budget: the collector runs
        Assert.Equal(64, keep.Count);
        Assert.Equal(started + 2, CollectorPause.RegionsStarted);
        Assert.Equal(broken + 1, CollectorPause.RegionsBroken);
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        Assert.Throws<ArgumentOutOfRangeException>(() => CollectorPause.Enter(0));
    }
}
