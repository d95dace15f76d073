using Newtonsoft.Json.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Local.Training;

/// <summary>
/// Owns the training step of a <see cref="LocalLearner{TTarget}"/>: the learning-rate schedule, zeroing
/// gradients, the engine's block-wise step, the optimizer step, hooks, and checkpoints that resume the
/// same run (model, auxiliary networks with their EMA copies and s, optimizer state, schedule position,
/// epoch, seed and RNG state).
/// </summary>
/// <typeparam name="TTarget">The task's target type.</typeparam>
public sealed class LocalTrainer<TTarget> : IDisposable
{
    private const int FormatVersion = 1;
    private readonly optim.Optimizer optimizer;
    private readonly List<(optim.ILearningRateController Group, double Scale)> groups = [];

    /// <summary>Creates the trainer and its optimizer over every trainable parameter of the learner.</summary>
    public LocalTrainer(LocalLearner<TTarget> learner, TrainerOptions options)
    {
        options.Validate();
        Learner = learner;
        Options = options;
        var seen = new HashSet<IntPtr>();
        var byScale = new SortedDictionary<double, List<Parameter>>();
        foreach (var (name, p) in learner.named_parameters())
        {
            if (!p.requires_grad || !seen.Add(p.Handle)) continue;
            double scale = options.LrScaleByName?.Invoke(name) ?? 1.0;
            if (scale < 0 || double.IsNaN(scale)) throw new ArgumentException($"Learning-rate scale of '{name}' must be non-negative (got {scale}).");
            if (scale == 0) continue;
            if (!byScale.TryGetValue(scale, out var list)) byScale[scale] = list = [];
            list.Add(p);
        }
        if (byScale.Count == 0) throw new ArgumentException("The learner has no trainable parameter.");
        double lr = options.Schedule.BaseLr;
        if (options.Optimizer == OptimizerKind.Sgd)
        {
            var pgs = byScale.Select(kv => new SGD.ParamGroup(kv.Value, lr * kv.Key, options.Momentum, 0, options.WeightDecay, options.Nesterov && options.Momentum > 0, false)).ToList();
            optimizer = optim.SGD(pgs, lr, options.Momentum, 0, options.WeightDecay, options.Nesterov && options.Momentum > 0);
        }
        else
        {
            var pgs = byScale.Select(kv => new AdamW.ParamGroup(kv.Value, lr * kv.Key, 0.9, 0.999, 1e-8, options.WeightDecay, false, false)).ToList();
            optimizer = optim.AdamW(pgs, lr, weight_decay: options.WeightDecay);
        }
        var scales = byScale.Keys.ToList();
        int i = 0;
        foreach (var g in optimizer.ParamGroups) groups.Add((g, scales[i++]));
        // Clipping first: the handlers run in this order, so a block's gradients are clipped before its own step.
        if (options.MaxGradNorm is not null) learner.AfterBlockBackward += ClipBlock;
        if (options.StepEachBlock) learner.AfterBlockBackward += StepBlock;
    }

    private bool inStep;
    private readonly HashSet<IntPtr> clipped = [];

    /// <summary>
    /// With <see cref="TrainerOptions.MaxGradNorm"/>: clips the gradients the block's backward pass just produced,
    /// i.e. those of parameters that hold a gradient and were not clipped earlier in this step (blocks never share a
    /// parameter, and each step starts with no gradient).
    /// </summary>
    private void ClipBlock(int block, double loss)
    {
        if (!inStep) return;
        var fresh = new List<Parameter>();
        foreach (var p in Learner.TrainableParameters())
        {
            if (clipped.Contains(p.Handle)) continue;
            using var g = p.grad;
            if (g is null) continue;
            clipped.Add(p.Handle);
            fresh.Add(p);
        }
        if (fresh.Count > 0) LastGradNorms[block] = nn.utils.clip_grad_norm_(fresh, Options.MaxGradNorm!.Value);
    }

    /// <summary>
    /// With <see cref="TrainerOptions.MaxGradNorm"/>: every block's total gradient norm in the last step, before
    /// clipping (NaN for a block that produced no gradient). Empty without clipping.
    /// </summary>
    public double[] LastGradNorms { get; private set; } = [];

    /// <summary>With <see cref="TrainerOptions.StepEachBlock"/>: the block's optimizer step, then its gradients are dropped.</summary>
    private void StepBlock(int block, double loss)
    {
        if (!inStep) return;
        optimizer.step();
        ClearGradients();
    }

    /// <summary>The engine.</summary>
    public LocalLearner<TTarget> Learner { get; }

    /// <summary>The options.</summary>
    public TrainerOptions Options { get; }

    /// <summary>The optimizer (one over all trainable parameters).</summary>
    public optim.Optimizer Optimizer => optimizer;

    /// <summary>Completed epochs (set by the caller's loop; saved in checkpoints).</summary>
    public int Epoch { get; set; }

    /// <summary>Optimizer steps taken in this run.</summary>
    public long Step => Learner.StepCount;

    /// <summary>The learning rate of the next step (base group).</summary>
    public double CurrentLr => Options.Schedule.At(Step);

    /// <summary>Raised before each step with the step index.</summary>
    public event Action<long>? BeforeStep;

    /// <summary>Raised after each optimizer step with its result.</summary>
    public event Action<long, StepResult>? AfterStep;

    /// <summary>One training step on a batch.</summary>
    /// <exception cref="NonFiniteLossException">A loss was not finite; the optimizer step was not applied.</exception>
    public StepResult TrainStep(Tensor input, TTarget target)
    {
        long step = Step;
        BeforeStep?.Invoke(step);
        double lr = Options.Schedule.At(step);
        foreach (var (g, scale) in groups) g.LearningRate = lr * scale;
        using var scope = NewDisposeScope();
        StepResult result;
        // No garbage collection during the step's tensor work: TorchSharp's temporary scalars stay alive (CollectorPause).
        using (Man.Runtime.CollectorPause.Enter())
        {
            Learner.train();
            ClearGradients();
            clipped.Clear();
            if (Options.MaxGradNorm is not null) LastGradNorms = Enumerable.Repeat(double.NaN, Learner.Plan.K).ToArray();
            try
            {
                inStep = true;
                result = Learner.Step(input, target);
            }
            catch (NonFiniteLossException)
            {
                ClearGradients();
                throw;
            }
            finally
            {
                inStep = false;
            }
            // With StepEachBlock every block has stepped already and no gradient is left.
            if (!Options.StepEachBlock) optimizer.step();
            Learner.AfterOptimizerStep();
        }
        AfterStep?.Invoke(step, result);
        return result;
    }

    /// <summary>
    /// Drops every gradient (PyTorch's <c>zero_grad(set_to_none=True)</c>): between steps no gradient memory is held,
    /// and during a step only the blocks that already ran hold theirs. The optimizers skip parameters without one.
    /// Every parameter of the learner is cleared, also one whose <c>requires_grad</c> a caller turned off after a step: the
    /// optimizer still holds it, and its stale gradient would otherwise be applied again by every later step.
    /// </summary>
    public void ClearGradients()
    {
        foreach (var p in Learner.parameters())
        {
            var g = p.grad;
            if (g is null) continue;
            p.grad = null;
            g.Dispose();
        }
    }

    /// <summary>
    /// Writes a checkpoint atomically. <paramref name="meta"/> carries what the task needs to rebuild the model
    /// (architecture, classes, input size, …); it is returned by <see cref="ReadMeta"/>.
    /// </summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? meta = null)
    {
        var header = new JObject
        {
            ["format"] = "man-vision-checkpoint",
            ["version"] = FormatVersion,
            ["method"] = Learner.Options.Method.Name(),
            ["split"] = new JArray(Learner.Plan.Starts),
            ["units"] = Learner.Plan.UnitCount,
            ["input_shape"] = new JArray(Learner.InputShape),
            ["epoch"] = Epoch,
            ["step"] = Step,
            ["seed"] = Options.Seed,
            ["optimizer"] = Options.Optimizer.ToString(),
            ["schedule"] = JObject.FromObject(new
            {
                kind = Options.Schedule.Kind.ToString(), base_lr = Options.Schedule.BaseLr, total_steps = Options.Schedule.TotalSteps,
                warmup_steps = Options.Schedule.WarmupSteps, power = Options.Schedule.Power, min_lr = Options.Schedule.MinLr,
            }),
            ["ema_momentum"] = Learner.Options.EmaMomentum,
            ["s"] = new JArray(Learner.SValues.Select(v => double.IsNaN(v) ? null : (object?)v)),
            ["meta"] = JObject.FromObject(meta ?? new Dictionary<string, string>()),
        };
        // The payload is streamed to disk: holding it in memory cost twice the model and optimizer state at every save.
        CheckpointFile.Write(path, header, stream =>
        {
            using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            Learner.save(w);
            ((OptimizerHelper)optimizer).save_state_dict(w);
            using var rng = torch.random.get_rng_state();
            var bytes = rng.data<byte>().ToArray();
            w.Write(bytes.Length);
            w.Write(bytes);
        });
    }

    /// <summary>The task metadata stored in a checkpoint (throws <see cref="CheckpointException"/> on a bad file); <see cref="CheckpointMeta"/> reads it typed.</summary>
    public static IReadOnlyDictionary<string, string> ReadMeta(string path) => CheckpointMeta.Read(path).Values;

    /// <summary>
    /// Restores a checkpoint into this trainer, which must have been built the same way (same model, method and
    /// split); the next <see cref="TrainStep"/> continues the saved run exactly.
    /// </summary>
    /// <exception cref="CheckpointException">The file is foreign, truncated, corrupt, or from another configuration.</exception>
    public void Load(string path)
    {
        var (header, payload) = CheckpointFile.Read(path);
        string method = header.Value<string>("method") ?? "?";
        if (method != Learner.Options.Method.Name())
            throw new CheckpointException(path, $"the checkpoint was trained with method '{method}', this run uses '{Learner.Options.Method.Name()}'.");
        var split = header["split"]?.ToObject<int[]>() ?? [];
        if (!split.SequenceEqual(Learner.Plan.Starts) || header.Value<int>("units") != Learner.Plan.UnitCount)
            throw new CheckpointException(path,
                $"the checkpoint's split [{string.Join(",", split)}] of {header.Value<int>("units")} units differs from this run's [{string.Join(",", Learner.Plan.Starts)}] of {Learner.Plan.UnitCount}.");
        try
        {
            using var ms = new MemoryStream(payload);
            using var r = new BinaryReader(ms);
            Learner.load(r, strict: true);
            ((OptimizerHelper)optimizer).load_state_dict(r);
            int n = r.ReadInt32();
            var bytes = r.ReadBytes(n);
            using var rng = torch.tensor(bytes, dtype: ScalarType.Byte);
            torch.random.set_rng_state(rng);
        }
        catch (Exception e) when (e is not CheckpointException)
        {
            throw new CheckpointException(path, "its tensors do not fit this model (another architecture, class count or method?): " + e.Message, e);
        }
        Learner.StepCount = header.Value<long>("step");
        Epoch = header.Value<int>("epoch");
    }

    /// <summary>
    /// Loads only the learner's weights (model, auxiliary networks, head) from a checkpoint, for evaluation
    /// and prediction; the learner must be built with the checkpoint's method and split.
    /// </summary>
    /// <exception cref="CheckpointException">The file is foreign, truncated, corrupt, or does not fit the learner.</exception>
    public static void LoadWeights(LocalLearner<TTarget> learner, string path)
    {
        var (_, payload) = CheckpointFile.Read(path);
        try
        {
            using var ms = new MemoryStream(payload);
            using var r = new BinaryReader(ms);
            learner.load(r, strict: true);
        }
        catch (Exception e) when (e is not CheckpointException)
        {
            throw new CheckpointException(path, "its tensors do not fit this model (another architecture, class count or method?): " + e.Message, e);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        // A disposed trainer no longer listens to the learner, which may go on with another trainer (a new schedule segment).
        Learner.AfterBlockBackward -= ClipBlock;
        Learner.AfterBlockBackward -= StepBlock;
        optimizer.Dispose();
    }
}
