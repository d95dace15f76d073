using Man.Local;
using Man.Local.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Local.Tests;

public sealed class LocalLearnerTests
{
    private static TrainerOptions Sgd(double lr = 0.05, long total = 100) => new()
    {
        Schedule = new LearningRateSchedule { Kind = ScheduleKind.Constant, BaseLr = lr, TotalSteps = total },
        Momentum = 0.9, WeightDecay = 1e-4,
    };

    [Theory]
    [InlineData(LocalMethod.Greedy)]
    [InlineData(LocalMethod.InfoPro)]
    [InlineData(LocalMethod.Man)]
    [InlineData(LocalMethod.ManPlusPlus)]
    public void Later_losses_add_no_gradient_to_earlier_blocks(LocalMethod method)
    {
        using var scope = NewDisposeScope();
        var (net, _, learner) = Toy.Build(method, 3);
        var (x, y) = Toy.Batch(7);
        var firstBlock = Enumerable.Range(learner.Plan.Start(0), learner.Plan.End(0)).SelectMany(u => net[u].parameters()).ToList();
        var secondBlock = Enumerable.Range(learner.Plan.Start(1), learner.Plan.End(1) - learner.Plan.Start(1)).SelectMany(u => net[u].parameters()).ToList();
        List<Tensor>? afterOwnBackward = null;
        List<Tensor?>? secondBeforeItsBackward = null;
        learner.AfterBlockBackward += (b, _) =>
        {
            if (b == 0)
            {
                afterOwnBackward = firstBlock.Select(p => p.grad!.clone().DetachFromDisposeScope()).ToList();
                secondBeforeItsBackward = secondBlock.Select(p => p.grad?.clone().DetachFromDisposeScope()).ToList();
            }
        };
        learner.train();
        learner.Step(x, y);

        // Block 0's gradients after the whole step are exactly those it had after its own backward.
        for (int i = 0; i < firstBlock.Count; i++)
            Assert.Equal(0.0, Toy.MaxAbsDiff(firstBlock[i].grad!, afterOwnBackward![i]));
        // Block 0's own loss put nothing into block 1.
        Assert.All(secondBeforeItsBackward!, g => Assert.True(g is null || g.abs().max().ToDouble() == 0));
        // And block 1 did get gradients from its own loss.
        Assert.Contains(secondBlock, p => p.grad is not null && p.grad.abs().max().ToDouble() > 0);
    }

    [Fact]
    public void Model_parameters_are_mapped_to_the_block_of_their_unit()
    {
        using var scope = NewDisposeScope();
        var (net, _, learner) = Toy.Build(LocalMethod.ManPlusPlus, 3);
        var blocks = learner.ModelParameterBlocks();
        // Every unit holds conv.weight, bn.weight, bn.bias; only the model's parameters are listed (not aux., head.).
        Assert.Equal(3 * net.Count, blocks.Count);
        for (int u = 0; u < net.Count; u++)
            foreach (var (name, _) in net[u].named_parameters())
                Assert.Equal(learner.Plan.BlockOf(u), blocks[$"model.units.{u}.{name}"]);
        Assert.Contains(learner.named_parameters(), p => p.name.StartsWith("aux.", StringComparison.Ordinal));
        Assert.DoesNotContain(blocks.Keys, n => !n.StartsWith("model.", StringComparison.Ordinal));
    }

    [Fact]
    public void Block_gradients_are_the_same_without_the_blocks_after_it()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Toy.Batch(11);
        var (netA, _, learnerA) = Toy.Build(LocalMethod.ManPlusPlus, 3);
        learnerA.train();
        learnerA.Step(x, y);
        var gradsA = Enumerable.Range(0, learnerA.Plan.End(0)).SelectMany(u => netA[u].parameters()).Select(p => p.grad!.clone()).ToList();

        // The same block and auxiliary network alone, by hand: units of block 0 then the auxiliary loss.
        var (netB, _, learnerB) = Toy.Build(LocalMethod.ManPlusPlus, 3);
        learnerB.train();
        var h = x;
        for (int u = 0; u < learnerB.Plan.End(0); u++) h = netB[u].forward(h);
        learnerB.Auxiliaries[0].Loss(h, y, x).backward();
        var gradsB = Enumerable.Range(0, learnerB.Plan.End(0)).SelectMany(u => netB[u].parameters()).Select(p => p.grad!).ToList();
        Assert.Equal(gradsA.Count, gradsB.Count);
        for (int i = 0; i < gradsA.Count; i++)
            Assert.True(Toy.MaxAbsDiff(gradsA[i], gradsB[i]) < 1e-7, $"gradient {i} differs by {Toy.MaxAbsDiff(gradsA[i], gradsB[i])}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_frozen_early_block_runs_without_its_auxiliary_loss_and_the_rest_trains_as_before(bool recompute)
    {
        using var scope = NewDisposeScope();
        var (x, y) = Toy.Batch(13);
        var (netA, _, learnerA) = Toy.Build(LocalMethod.ManPlusPlus, 3, recompute: recompute);
        var (netB, _, learnerB) = Toy.Build(LocalMethod.ManPlusPlus, 3);
        int end0 = learnerA.Plan.End(0), end1 = learnerA.Plan.End(1);
        foreach (var net in new[] { netA, netB })
            for (int u = 0; u < end0; u++)
                foreach (var p in net[u].parameters()) p.requires_grad = false;
        Assert.Equal([0], learnerA.IdleEarlyBlocks());
        learnerA.train();
        var result = learnerA.Step(x, y);

        // Block 0 reports no loss, and neither its units nor its auxiliary network got a gradient.
        Assert.True(double.IsNaN(result.BlockLosses[0]));
        Assert.All(learnerA.Auxiliaries[0].parameters(), p => Assert.Null(p.grad));
        Assert.All(Enumerable.Range(0, end0).SelectMany(u => netA[u].parameters()), p => Assert.Null(p.grad));

        // Block 1 by hand on the same weights: the same loss and gradients; block 0's batch-norm statistics moved once.
        learnerB.train();
        var h = x;
        for (int u = 0; u < end1; u++) h = netB[u].forward(h);
        var lossB = learnerB.Auxiliaries[1].Loss(h, y, x);
        lossB.backward();
        Assert.Equal(lossB.ToDouble(), result.BlockLosses[1], 6);
        for (int u = end0; u < end1; u++)
            foreach (var ((name, pa), (_, pb)) in netA[u].named_parameters().Zip(netB[u].named_parameters()))
                Assert.True(Toy.MaxAbsDiff(pa.grad!, pb.grad!) < 1e-6, $"unit {u} {name}");
        for (int u = 0; u < end0; u++)
            foreach (var ((name, ba), (_, bb)) in netA[u].named_buffers().Zip(netB[u].named_buffers()))
                Assert.True(Toy.MaxAbsDiff(ba, bb) < 1e-7, $"unit {u} {name}");
        Assert.True(double.IsFinite(result.BlockLosses[2]));
    }

    [Fact]
    public void Parameters_whose_gradients_a_caller_turns_off_after_a_step_are_not_moved_again_by_their_stale_gradient()
    {
        using var scope = NewDisposeScope();
        var (net, _, learner) = Toy.Build(LocalMethod.Greedy, 3);
        using var trainer = new LocalTrainer<Tensor>(learner, Sgd() with { Momentum = 0, WeightDecay = 0 });
        var (x, y) = Toy.Batch(5);
        trainer.TrainStep(x, y);
        var frozen = Enumerable.Range(0, learner.Plan.End(0)).SelectMany(u => net[u].parameters()).ToList();
        foreach (var p in frozen) p.requires_grad = false;
        var before = frozen.Select(p => p.clone()).ToList();
        for (int i = 0; i < 2; i++) trainer.TrainStep(x, y);
        // Plain SGD moves a parameter only by its gradient: none was computed after the freeze, and the last one was dropped.
        for (int i = 0; i < frozen.Count; i++) Assert.Equal(0.0, Toy.MaxAbsDiff(frozen[i], before[i]));
        Assert.All(frozen, p => Assert.Null(p.grad));
    }

    [Fact]
    public void A_block_frozen_mid_run_stops_changing_under_momentum_and_weight_decay_while_the_rest_trains()
    {
        using var scope = NewDisposeScope();
        var (net, _, learner) = Toy.Build(LocalMethod.ManPlusPlus, 3);
        using var trainer = new LocalTrainer<Tensor>(learner, Sgd());
        var (x, y) = Toy.Batch(3);
        for (int i = 0; i < 2; i++) trainer.TrainStep(x, y); // momentum buffers now hold non-zero values
        Assert.Empty(learner.IdleEarlyBlocks());
        learner.FreezeBlock(0);
        Assert.Equal([0], learner.IdleEarlyBlocks());
        var units0 = Enumerable.Range(0, learner.Plan.End(0)).SelectMany(u => net[u].parameters()).Select(p => p.clone()).ToList();
        // The auxiliary network's trainable part (LB copy, s, head); its EMA copy keeps following block 1's first unit.
        var aux0 = learner.Auxiliaries[0].parameters().Where(p => p.requires_grad).Select(p => p.clone()).ToList();
        var unit2 = net[learner.Plan.Start(1)].parameters().Select(p => p.clone()).ToList();
        StepResult? last = null;
        for (int i = 0; i < 3; i++) last = trainer.TrainStep(x, y);
        var after0 = Enumerable.Range(0, learner.Plan.End(0)).SelectMany(u => net[u].parameters()).ToList();
        for (int i = 0; i < units0.Count; i++) Assert.Equal(0.0, Toy.MaxAbsDiff(after0[i], units0[i]));
        var afterAux = learner.Auxiliaries[0].parameters().Where(p => p.requires_grad).ToList();
        Assert.NotEmpty(afterAux);
        for (int i = 0; i < aux0.Count; i++) Assert.Equal(0.0, Toy.MaxAbsDiff(afterAux[i], aux0[i]));
        Assert.Contains(net[learner.Plan.Start(1)].parameters().Zip(unit2), pair => Toy.MaxAbsDiff(pair.First, pair.Second) > 0);
        Assert.True(double.IsNaN(last!.BlockLosses[0]));
        Assert.True(double.IsFinite(last.BlockLosses[1]) && double.IsFinite(last.BlockLosses[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => learner.FreezeBlock(2)); // the last block is not an early block
        // A trainer built after the freeze (a new schedule segment, a resumed run) holds the same parameters and loads
        // the first one's checkpoint.
        string path = Path.Combine(Path.GetTempPath(), $"man-freeze-{Guid.NewGuid():N}.ckpt");
        trainer.Save(path);
        using (var again = new LocalTrainer<Tensor>(learner, Sgd()))
            again.Load(path);
        File.Delete(path);
    }

    [Fact]
    public void Ema_follows_the_unit_exactly_parameters_only()
    {
        using var scope = NewDisposeScope();
        var (net, _, learner) = Toy.Build(LocalMethod.ManPlusPlus, 2);
        using var trainer = new LocalTrainer<Tensor>(learner, Sgd());
        var aux = learner.Auxiliaries[0];
        int followed = learner.Plan.Start(1);
        double m = learner.Options.EmaMomentum;
        var expected = Toy.Snapshot(aux.Momentum!);
        for (int step = 0; step < 4; step++)
        {
            var unitBefore = Toy.Snapshot(net[followed]);
            var (x, y) = Toy.Batch(step);
            trainer.TrainStep(x, y);
            foreach (var name in expected.Keys.ToList())
                expected[name] = expected[name] * m + unitBefore[name] * (1 - m);
            var actual = Toy.Snapshot(aux.Momentum!);
            foreach (var (name, e) in expected)
                Assert.True(Toy.MaxAbsDiff(actual[name], e) < 1e-7, $"step {step}, {name}: {Toy.MaxAbsDiff(actual[name], e)}");
        }
        // The EMA copy's parameters never receive gradients and are not trained by the optimizer.
        Assert.All(aux.Momentum!.parameters(), p => Assert.False(p.requires_grad));
        // Buffers are not copied: the EMA copy's BN statistics are its own, not the unit's.
        var unitBuffers = net[followed].named_buffers().ToDictionary(b => b.name, b => b.buffer);
        var emaMean = aux.Momentum!.named_buffers().First(b => b.name.EndsWith("running_mean")).buffer;
        Assert.True(Toy.MaxAbsDiff(emaMean, unitBuffers[aux.Momentum!.named_buffers().First(b => b.name.EndsWith("running_mean")).name]) > 1e-6);
    }

    [Fact]
    public void S_learns_under_manpp_and_is_fixed_at_one_under_man()
    {
        using var scope = NewDisposeScope();
        var (_, _, pp) = Toy.Build(LocalMethod.ManPlusPlus, 3);
        using (var trainer = new LocalTrainer<Tensor>(pp, Sgd(lr: 0.1)))
        {
            Assert.Equal([1.0, 1.0], pp.SValues);
            for (int i = 0; i < 3; i++)
            {
                var (x, y) = Toy.Batch(i);
                trainer.TrainStep(x, y);
                Assert.NotNull(pp.Auxiliaries[0].S!.grad);
                Assert.True(pp.Auxiliaries[0].S!.grad!.abs().ToDouble() > 0, "s must receive a gradient");
            }
        }
        Assert.All(pp.SValues, s => Assert.True(Math.Abs(s - 1.0) > 1e-5, $"s did not move: {s}"));

        var (_, _, man) = Toy.Build(LocalMethod.Man, 3);
        using (var trainer = new LocalTrainer<Tensor>(man, Sgd(lr: 0.1)))
        {
            for (int i = 0; i < 3; i++)
            {
                var (x, y) = Toy.Batch(i);
                trainer.TrainStep(x, y);
            }
        }
        Assert.Equal([1.0, 1.0], man.SValues);
        Assert.All(man.Auxiliaries, a => Assert.Null(a.S));
    }

    [Fact]
    public void K1_equals_plain_backprop()
    {
        using var scope = NewDisposeScope();
        var (net, task, learner) = Toy.Build(LocalMethod.E2E, 1);
        using var trainer = new LocalTrainer<Tensor>(learner, Sgd());

        // The same model and head by hand, same seeds.
        var (refNet, refTask, refLearner) = Toy.Build(LocalMethod.E2E, 1);
        var head = (PoolLinearHead)refTask.MainHead;
        var parameters = refNet.parameters().Concat(head.parameters()).ToList();
        var opt = optim.SGD(parameters, 0.05, momentum: 0.9, weight_decay: 1e-4, nesterov: true);
        refNet.train();
        head.train();
        for (int step = 0; step < 3; step++)
        {
            var (x, y) = Toy.Batch(step);
            var r = trainer.TrainStep(x, y);
            opt.zero_grad();
            var h = x;
            for (int u = 0; u < refNet.Count; u++) h = refNet[u].forward(h);
            var loss = nn.functional.cross_entropy(head.Logits(h), y);
            loss.backward();
            opt.step();
            Assert.True(Math.Abs(r.MainLoss - loss.ToDouble()) < 1e-6, $"step {step}: {r.MainLoss} vs {loss.ToDouble()}");
        }
        var a = Toy.Snapshot(net);
        var b = Toy.Snapshot(refNet);
        foreach (var (name, t) in a) Assert.True(Toy.MaxAbsDiff(t, b[name]) < 1e-6, $"{name}: {Toy.MaxAbsDiff(t, b[name])}");
    }

    [Fact]
    public void Block_graph_is_released_before_the_next_block_runs()
    {
        using var scope = NewDisposeScope();
        var (net, _, learner) = Toy.Build(LocalMethod.ManPlusPlus, 2);
        int boundary = learner.Plan.Start(1);
        Tensor? recorded = null;
        bool checkedAtNextBlock = false;
        // Record the last output made inside block 0, then check it is gone when block 1 starts.
        var h1 = ((nn.Module<Tensor, Tensor>)net[boundary - 1]).register_forward_hook((_, _, output) =>
        {
            recorded = output;
            return output;
        });
        var h2 = ((nn.Module<Tensor, Tensor>)net[boundary]).register_forward_pre_hook((_, x) =>
        {
            Assert.NotNull(recorded);
            Assert.True(recorded!.IsInvalid, "a tensor of block 0's graph is still alive when block 1 runs");
            Assert.False(x.requires_grad, "block 1's input must be detached");
            checkedAtNextBlock = true;
            return x;
        });
        learner.train();
        var (bx, by) = Toy.Batch(3);
        learner.Step(bx, by);
        Assert.True(checkedAtNextBlock);
        h1.remove();
        h2.remove();
    }

    [Theory]
    [InlineData(LocalMethod.Greedy)]
    [InlineData(LocalMethod.InfoPro)]
    [InlineData(LocalMethod.ManPlusPlus)]
    public void Recomputing_blocks_gives_the_same_training_as_keeping_their_graphs(LocalMethod method)
    {
        using var scope = NewDisposeScope();
        var (netA, _, learnerA) = Toy.Build(method, 3);
        var (netB, _, learnerB) = Toy.Build(method, 3, recompute: true);
        using var trainerA = new LocalTrainer<Tensor>(learnerA, Sgd());
        using var trainerB = new LocalTrainer<Tensor>(learnerB, Sgd());
        for (int i = 0; i < 3; i++)
        {
            var (x, y) = Toy.Batch(20 + i);
            torch.manual_seed(i);
            var a = trainerA.TrainStep(x, y);
            double drawA = torch.rand(1).ToDouble();
            torch.manual_seed(i);
            var b = trainerB.TrainStep(x, y);
            double drawB = torch.rand(1).ToDouble();
            for (int block = 0; block < 3; block++) Assert.Equal(a.BlockLosses[block], b.BlockLosses[block], 6);
            // The random stream continues as without recomputation.
            Assert.Equal(drawA, drawB);
        }
        // Weights, EMA copies, s and batch-norm statistics (updated once per step, not twice) all agree.
        var sa = learnerA.state_dict();
        foreach (var (name, t) in learnerB.state_dict())
            Assert.True(Toy.MaxAbsDiff(t.to_type(ScalarType.Float64), sa[name].to_type(ScalarType.Float64)) < 1e-6, $"{name}: {Toy.MaxAbsDiff(t.to_type(ScalarType.Float64), sa[name].to_type(ScalarType.Float64))}");
        Assert.Contains(netB.named_buffers(), kv => kv.name.EndsWith("num_batches_tracked", StringComparison.Ordinal) && kv.buffer.ToInt64() == 3);
    }

    [Theory]
    [InlineData(LocalMethod.ManPlusPlus, OptimizerKind.Sgd, false)]
    [InlineData(LocalMethod.ManPlusPlus, OptimizerKind.AdamW, false)]
    [InlineData(LocalMethod.InfoPro, OptimizerKind.Sgd, false)]
    [InlineData(LocalMethod.ManPlusPlus, OptimizerKind.Sgd, true)]
    public void Stepping_each_block_makes_the_updates_of_one_step_and_frees_gradients_early(LocalMethod method, OptimizerKind kind, bool recompute)
    {
        using var scope = NewDisposeScope();
        var (_, _, learnerA) = Toy.Build(method, 3, recompute: recompute);
        var (netB, _, learnerB) = Toy.Build(method, 3, recompute: recompute);
        var options = Sgd() with { Optimizer = kind };
        using var trainerA = new LocalTrainer<Tensor>(learnerA, options);
        using var trainerB = new LocalTrainer<Tensor>(learnerB, options with { StepEachBlock = true });
        // While block b runs (its backward just done), no parameter of an earlier block holds a gradient.
        var stale = new List<int>();
        learnerB.AfterBlockBackward += (b, _) =>
        {
            for (int u = 0; u < learnerB.Plan.Start(b); u++)
                if (((nn.Module)netB[u]).parameters().Any(p => p.grad is not null)) stale.Add(b);
        };
        for (int i = 0; i < 4; i++)
        {
            var (x, y) = Toy.Batch(40 + i);
            var a = trainerA.TrainStep(x, y);
            var b = trainerB.TrainStep(x, y);
            for (int block = 0; block < 3; block++) Assert.Equal(a.BlockLosses[block], b.BlockLosses[block], 6);
        }
        Assert.Empty(stale);
        Assert.All(learnerB.TrainableParameters(), p => Assert.Null(p.grad));
        // s included (the step result reports it when the block ran: before the single step, after the block's own).
        Assert.Equal(learnerA.SValues, learnerB.SValues);
        var sa = learnerA.state_dict();
        foreach (var (name, t) in learnerB.state_dict())
            Assert.True(Toy.MaxAbsDiff(t.to_type(ScalarType.Float64), sa[name].to_type(ScalarType.Float64)) < 1e-6, name);
    }

    [Fact]
    public void Only_the_chosen_blocks_are_recomputed_and_training_is_unchanged()
    {
        using var scope = NewDisposeScope();
        var (netA, _, learnerA) = Toy.Build(LocalMethod.ManPlusPlus, 3);
        var (netB, _, learnerB) = Toy.Build(LocalMethod.ManPlusPlus, 3, recomputed: [1]);
        var passes = new List<(int Unit, bool Graph)>();
        var hooks = Enumerable.Range(0, netB.Count).Select(u => ((nn.Module<Tensor, Tensor>)netB[u]).register_forward_hook((_, _, output) =>
        {
            passes.Add((u, output.requires_grad));
            return output;
        })).ToList();
        using var trainerA = new LocalTrainer<Tensor>(learnerA, Sgd());
        using var trainerB = new LocalTrainer<Tensor>(learnerB, Sgd());
        for (int i = 0; i < 2; i++)
        {
            var (x, y) = Toy.Batch(30 + i);
            var a = trainerA.TrainStep(x, y);
            var b = trainerB.TrainStep(x, y);
            for (int block = 0; block < 3; block++) Assert.Equal(a.BlockLosses[block], b.BlockLosses[block], 6);
        }
        foreach (var h in hooks) h.remove();
        // Per step: blocks 0 and 2 run once with a graph, block 1 twice (first without one).
        int start1 = learnerB.Plan.Start(1), end1 = learnerB.Plan.End(1);
        for (int u = 0; u < netB.Count; u++)
            Assert.Equal(u >= start1 && u < end1 ? 4 : 2, passes.Count(p => p.Unit == u));
        Assert.Equal(2, passes.Count(p => p.Unit == start1 && !p.Graph));
        var sa = learnerA.state_dict();
        foreach (var (name, t) in learnerB.state_dict())
            Assert.True(Toy.MaxAbsDiff(t.to_type(ScalarType.Float64), sa[name].to_type(ScalarType.Float64)) < 1e-6, name);
        var e = Assert.Throws<ArgumentException>(() => Toy.Build(LocalMethod.ManPlusPlus, 3, recomputed: [2]));
        Assert.Contains("Block 2 cannot be recomputed", e.Message);
    }

    [Fact]
    public void The_EMA_branch_is_cut_only_in_the_chosen_recomputed_blocks_and_training_is_unchanged()
    {
        using var scope = NewDisposeScope();
        var (_, _, plain) = Toy.Build(LocalMethod.ManPlusPlus, 3);
        var (_, _, cutAll) = Toy.Build(LocalMethod.ManPlusPlus, 3, recompute: true);
        var (_, _, cutOne) = Toy.Build(LocalMethod.ManPlusPlus, 3, recompute: true, momentumCuts: [1]);
        var (_, _, cutNone) = Toy.Build(LocalMethod.ManPlusPlus, 3, recompute: true, momentumCuts: []);
        var learners = new[] { plain, cutAll, cutOne, cutNone };
        // EMA forward passes per block: a cut block runs its EMA copy twice (without, then with a graph), others once.
        var emaPasses = learners.Select(l => new int[2]).ToArray();
        var hooks = new List<Action>();
        for (int i = 0; i < learners.Length; i++)
            for (int b = 0; b < 2; b++)
            {
                int li = i, bi = b;
                var ema = learners[i].Auxiliaries[b].Momentum!;
                var handle = ema.register_forward_hook((_, _, output) => { emaPasses[li][bi]++; return output; });
                hooks.Add(() => handle.remove());
            }
        var trainers = learners.Select(l => new LocalTrainer<Tensor>(l, Sgd())).ToArray();
        for (int step = 0; step < 3; step++)
        {
            var (x, y) = Toy.Batch(60 + step);
            var results = trainers.Select(t => t.TrainStep(x, y)).ToArray();
            foreach (var r in results.Skip(1))
                for (int block = 0; block < 3; block++) Assert.Equal(results[0].BlockLosses[block], r.BlockLosses[block], 6);
        }
        foreach (var remove in hooks) remove();
        Assert.Equal([3, 3], emaPasses[0]);
        Assert.Equal([6, 6], emaPasses[1]);
        Assert.Equal([3, 6], emaPasses[2]);
        Assert.Equal([3, 3], emaPasses[3]);
        Assert.True(cutOne.Options.CutsMomentum(1, 3) && !cutOne.Options.CutsMomentum(0, 3) && !plain.Options.CutsMomentum(0, 3));
        var reference = plain.state_dict();
        foreach (var l in learners.Skip(1))
            foreach (var (name, t) in l.state_dict())
                Assert.True(Toy.MaxAbsDiff(t.to_type(ScalarType.Float64), reference[name].to_type(ScalarType.Float64)) < 1e-6, name);
        foreach (var t in trainers) t.Dispose();
        // Only recomputed blocks have a separate auxiliary pass in which the EMA branch could be cut.
        var e = Assert.Throws<ArgumentException>(() => Toy.Build(LocalMethod.ManPlusPlus, 3, recomputed: [0], momentumCuts: [1]));
        Assert.Contains("Block 1 cannot cut its EMA branch", e.Message);
    }

    [Fact]
    public void A_recomputed_block_runs_first_without_a_graph_then_with_one()
    {
        using var scope = NewDisposeScope();
        var (net, _, learner) = Toy.Build(LocalMethod.ManPlusPlus, 2, recompute: true);
        var flags = new List<(int Unit, bool Graph)>();
        var hooks = Enumerable.Range(0, net.Count).Select(u => ((nn.Module<Tensor, Tensor>)net[u]).register_forward_hook((_, _, output) =>
        {
            flags.Add((u, output.requires_grad));
            return output;
        })).ToList();
        learner.train();
        var (x, y) = Toy.Batch(4);
        learner.Step(x, y);
        int boundary = learner.Plan.Start(1);
        // Block 0: a pass without a graph (the auxiliary network learns from its output), then the pass that back-propagates.
        var block0 = Enumerable.Range(0, boundary);
        Assert.Equal(block0.Select(u => (u, false)).Concat(block0.Select(u => (u, true))), flags.Where(f => f.Unit < boundary));
        // The last block has no auxiliary network and runs once, with its graph.
        Assert.Equal(Enumerable.Range(boundary, net.Count - boundary).Select(u => (u, true)), flags.Where(f => f.Unit >= boundary));
        foreach (var h in hooks) h.remove();
    }

    [Fact]
    public void Steps_leak_no_tensors()
    {
        using var outer = NewDisposeScope();
        var (_, _, learner) = Toy.Build(LocalMethod.ManPlusPlus, 3);
        using var trainer = new LocalTrainer<Tensor>(learner, Sgd());
        var (x, y) = Toy.Batch(1);
        trainer.TrainStep(x, y);
        var stats = DisposeScopeManager.Statistics;
        stats.Reset();
        for (int i = 0; i < 3; i++) trainer.TrainStep(x, y);
        long alive = stats.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++) trainer.TrainStep(x, y);
        Assert.Equal(alive, stats.ThreadTotalLiveCount);
    }

    [Fact]
    public void Nan_loss_names_step_and_block_and_applies_nothing()
    {
        using var scope = NewDisposeScope();
        var (net, _, learner) = Toy.Build(LocalMethod.Greedy, 3);
        using var trainer = new LocalTrainer<Tensor>(learner, Sgd());
        var (x, y) = Toy.Batch(1);
        trainer.TrainStep(x, y);
        var before = Toy.Snapshot(net);
        var bad = x.clone();
        bad[0, 0, 0, 0] = torch.tensor(float.NaN);
        var e = Assert.Throws<NonFiniteLossException>(() => trainer.TrainStep(bad, y));
        Assert.Equal(1, e.Step);
        Assert.Equal(0, e.Block);
        Assert.Contains("block 0", e.Message);
        foreach (var (name, t) in Toy.Snapshot(net)) Assert.Equal(0.0, Toy.MaxAbsDiff(t, before[name]));
    }

    [Fact]
    public void Auxiliary_heads_see_the_right_feature_shapes()
    {
        using var scope = NewDisposeScope();
        var (_, greedyTask, greedy) = Toy.Build(LocalMethod.Greedy, 3);
        var (_, manTask, man) = Toy.Build(LocalMethod.ManPlusPlus, 3);
        // Greedy: the head sees the block's output; MAN++: the output of the next block's first unit.
        for (int k = 0; k < 2; k++)
        {
            Assert.Equal(greedy.UnitShapes[greedy.Plan.End(k) - 1], greedyTask.Contexts[k].Shape);
            Assert.Equal(man.UnitShapes[man.Plan.End(k)], manTask.Contexts[k].Shape);
        }
    }

    [Fact]
    public void E2E_requires_K1_and_K_cannot_exceed_units()
    {
        var net = ToyNet.Create(1, 4);
        var task = new ToyTask(12, 4);
        Assert.Throws<ArgumentException>(() => new LocalLearner<Tensor>(net, net, task, SplitPlan.Uniform(2, 4),
            new LocalLearningOptions { Method = LocalMethod.E2E }, [3, 16, 16]));
        var e = Assert.Throws<ArgumentException>(() => SplitPlan.Uniform(5, 4));
        Assert.Contains("larger than the number of units (4)", e.Message);
    }

    [Fact]
    public void Local_learning_trains_a_separable_problem()
    {
        using var scope = NewDisposeScope();
        var (_, _, learner) = Toy.Build(LocalMethod.ManPlusPlus, 3);
        using var trainer = new LocalTrainer<Tensor>(learner, Sgd(lr: 0.05));
        // Class = which quadrant holds a bright square.
        var g = new Generator().manual_seed(5);
        var y = torch.randint(0, 4, [32], generator: g, dtype: ScalarType.Int64);
        var x = torch.randn([32, 3, 16, 16], generator: g) * 0.1;
        var yy = y.data<long>().ToArray();
        for (int i = 0; i < 32; i++)
        {
            int r = (int)(yy[i] / 2) * 8, c = (int)(yy[i] % 2) * 8;
            x[i, TensorIndex.Colon, TensorIndex.Slice(r, r + 8), TensorIndex.Slice(c, c + 8)] += 2.0f;
        }
        double first = trainer.TrainStep(x, y).MainLoss, last = first;
        for (int i = 0; i < 40; i++) last = trainer.TrainStep(x, y).MainLoss;
        Assert.True(last < 0.3 * first, $"loss went from {first} to {last}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gradient_clipping_scales_each_blocks_gradients_to_the_norm_on_its_own(bool stepEachBlock)
    {
        using var scope = NewDisposeScope();
        var (_, _, reference) = Toy.Build(LocalMethod.ManPlusPlus, 3);
        var (_, _, learner) = Toy.Build(LocalMethod.ManPlusPlus, 3);
        var (x, y) = Toy.Batch(50);

        // The raw gradients of one step and the block whose backward pass produced each.
        var named = reference.named_parameters().Where(np => np.parameter.requires_grad).ToList();
        var blockOf = new Dictionary<string, int>();
        reference.AfterBlockBackward += (b, _) =>
        {
            foreach (var (n, p) in named)
                if (p.grad is not null) blockOf.TryAdd(n, b);
        };
        reference.train();
        reference.Step(x, y);
        var raw = named.Where(np => blockOf.ContainsKey(np.name)).ToDictionary(np => np.name, np => np.parameter.grad!.detach().clone());
        var norms = Enumerable.Range(0, 3)
            .Select(b => Math.Sqrt(raw.Where(kv => blockOf[kv.Key] == b).Sum(kv => kv.Value.pow(2).sum().ToDouble()))).ToArray();
        Assert.All(Enumerable.Range(0, 3), b => Assert.Contains(b, blockOf.Values));
        var sorted = norms.Order().ToArray();
        Assert.True(sorted[1] > 1.01 * sorted[0], $"block norms too close to tell apart: {string.Join(", ", norms)}");
        double max = (sorted[0] + sorted[1]) / 2; // the block with the smallest norm keeps its gradients, the others are clipped

        const double lr = 0.1;
        var options = new TrainerOptions
        {
            Schedule = new LearningRateSchedule { Kind = ScheduleKind.Constant, BaseLr = lr, TotalSteps = 10 },
            Momentum = 0, Nesterov = false, WeightDecay = 0, MaxGradNorm = max, StepEachBlock = stepEachBlock,
        };
        using var trainer = new LocalTrainer<Tensor>(learner, options);
        var before = Toy.Snapshot(learner);
        trainer.TrainStep(x, y);
        for (int b = 0; b < 3; b++) Assert.Equal(norms[b], trainer.LastGradNorms[b], 4);
        var after = learner.named_parameters().ToDictionary(np => np.name, np => np.parameter.detach());
        foreach (var (name, g) in raw)
        {
            // torch.nn.utils.clip_grad_norm_: g · min(1, max / (norm + 1e-6)) over the block's parameters.
            double factor = Math.Min(1.0, max / (norms[blockOf[name]] + 1e-6));
            var expected = before[name] - lr * factor * g;
            Assert.True(Toy.MaxAbsDiff(after[name], expected) < 1e-6, $"{name} (block {blockOf[name]}, factor {factor})");
        }
        Assert.Throws<ArgumentException>(() => (options with { MaxGradNorm = 0 }).Validate());
        Assert.Throws<ArgumentException>(() => (options with { MaxGradNorm = double.NaN }).Validate());
    }
}
