using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Norm;

/// <summary>
/// Precise batch-norm statistics, detectron2's <c>PreciseBN</c> hook (fvcore's <c>update_bn_stats</c>): the running mean
/// and variance of every batch-norm layer in training mode are replaced by their average over many training batches,
/// the population statistics the weights have at that point, instead of the exponential average of the last ≈ 10 small
/// batches that momentum 0.1 leaves. With small batches (detection: 2–4 images per step) the moving average is noisy and
/// moves the evaluation by points from one epoch to the next although the weights hardly change.
/// </summary>
public static class PreciseBatchNorm
{
    /// <summary>
    /// The loader epoch of the pass after training epoch e is this + e: far from any training epoch, so the pass draws its
    /// own batches and the training order (seeded by epoch) is the same with and without it.
    /// </summary>
    public const int LoaderEpochOffset = 1_000_000;

    /// <summary>
    /// <see cref="Recompute(IReadOnlyList{nn.Module}, int, Action{int}, long?)"/> over the first <paramref name="count"/> batches of
    /// <paramref name="batches"/> (each disposed after its forward pass).
    /// </summary>
    /// <param name="roots">The modules whose batch-norm layers in training mode are recomputed.</param>
    /// <param name="batches">The batches (e.g. a loader epoch); only the first <paramref name="count"/> are taken.</param>
    /// <param name="count">The number of batches of the pass.</param>
    /// <param name="forward">Runs one batch through the layers.</param>
    /// <param name="source">Named in the error when <paramref name="batches"/> ends early.</param>
    /// <param name="seed">Seeds the global generator for the pass (null: left as it is); it is put back afterwards.</param>
    /// <exception cref="InvalidOperationException"><paramref name="batches"/> holds fewer than <paramref name="count"/> batches.</exception>
    public static int Recompute<TBatch>(IReadOnlyList<nn.Module> roots, IEnumerable<TBatch> batches, int count, Action<TBatch> forward, string source,
        long? seed = null)
        where TBatch : IDisposable
    {
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(forward);
        using var pass = batches.GetEnumerator();
        return Recompute(roots, count, i =>
        {
            if (!pass.MoveNext()) throw new InvalidOperationException($"precise batch norm: {source} gave only {i} of {count} batches.");
            using var batch = pass.Current;
            forward(batch);
        }, seed);
    }

    /// <summary>
    /// Recomputes the running statistics of the batch-norm layers under <paramref name="root"/> (the root included)
    /// that are in training mode; layers in evaluation mode and <see cref="FrozenBatchNorm2d"/> are left as they are.
    /// <paramref name="forward"/> runs one forward pass of batch <c>i</c> (0 ≤ i &lt; <paramref name="batches"/>) through
    /// the layers in training mode; it runs without gradient. After batch i each layer's statistics are the mean of
    /// the per-batch mean and (unbiased) variance of batches 0..i, as fvcore computes them: equal batches therefore give
    /// the exact population mean, and the variance misses only the spread of the batch means. Momentum and the global
    /// (CPU) random generator, which dropout in training mode draws from, are restored.
    /// </summary>
    /// <returns>The number of layers updated (0 when none is in training mode: nothing is run).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batches"/> is not positive.</exception>
    /// <exception cref="InvalidOperationException">A forward pass did not reach every layer (e.g. a branch unused by the data).</exception>
    public static int Recompute(nn.Module root, int batches, Action<int> forward)
    {
        ArgumentNullException.ThrowIfNull(root);
        return Recompute([root], batches, forward);
    }

    /// <summary>
    /// As <see cref="Recompute(nn.Module, int, Action{int})"/> over the batch-norm layers of several modules that one forward
    /// pass runs (e.g. a backbone and the head that inference uses, but not the auxiliary heads that only training runs).
    /// </summary>
    /// <param name="roots">Modules whose batch-norm layers are recomputed.</param>
    /// <param name="batches">Number of forward passes.</param>
    /// <param name="forward">Runs the forward pass of batch i.</param>
    /// <param name="seed">
    /// Seeds the global generator for the pass (dropout masks then depend only on it, so two passes over the same batches
    /// agree); null leaves it as it is. Either way it is put back afterwards.
    /// </param>
    public static int Recompute(IReadOnlyList<nn.Module> roots, int batches, Action<int> forward, long? seed = null)
    {
        ArgumentNullException.ThrowIfNull(roots);
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batches);
        var layers = roots.SelectMany((root, r) => root.named_modules().Prepend(("", root))
                .Select(m => (Name: roots.Count == 1 ? m.Item1 : $"{r}:{m.Item1}", Module: m.Item2)))
            .Where(m => m.Module is BatchNorm { training: true, track_running_stats: true, running_mean: not null, running_var: not null, num_batches_tracked: not null })
            .DistinctBy(m => m.Module)
            .Select(m => new Layer(m.Name, (BatchNorm)m.Module)).ToList();
        if (layers.Count == 0) return 0;

        var momenta = layers.Select(l => l.Bn.momentum).ToArray();
        var means = layers.Select(l => zeros_like(l.Mean).DetachFromDisposeScope()).ToArray();
        var vars = layers.Select(l => zeros_like(l.Var).DetachFromDisposeScope()).ToArray();
        // Dropout in training mode (e.g. DeepLabV3's head) draws from the global generator: the pass puts it back as it
        // found it, so that training continues exactly as without the pass.
        var rng = torch.random.get_rng_state().DetachFromDisposeScope();
        var saved = layers.SelectMany(l => new[] { l.Mean.clone().DetachFromDisposeScope(), l.Var.clone().DetachFromDisposeScope() }).ToArray();
        try
        {
            if (seed is long s) torch.random.manual_seed(s);
            // Momentum 1 makes the running buffers the last batch's statistics; their running average is kept here.
            foreach (var l in layers) l.Bn.momentum = 1.0;
            using var noGrad = no_grad();
            for (int i = 0; i < batches; i++)
            {
                using var scope = NewDisposeScope();
                // No garbage collection during the pass (Man.Runtime.CollectorPause): batch norm's num_batches_tracked.add_(1)
                // hands native code a temporary TorchSharp scalar that a collection started by a loader thread could free.
                using var pause = Man.Runtime.CollectorPause.Enter();
                // A layer the pass does not reach would keep the previous batch's statistics: its batch counter tells.
                var before = stack(layers.Select(l => l.Count).ToArray());
                forward(i);
                var ran = stack(layers.Select(l => l.Count).ToArray()).gt(before);
                if (!ran.all().item<bool>())
                {
                    int missed = (int)ran.logical_not().nonzero()[0, 0].item<long>();
                    throw new InvalidOperationException($"The forward pass of batch {i} did not run the batch-norm layer '{layers[missed].Name}' in training mode.");
                }
                for (int j = 0; j < layers.Count; j++)
                {
                    double w = 1.0 / (i + 1);
                    means[j].add_(layers[j].Mean.sub(means[j]).mul_(w));
                    vars[j].add_(layers[j].Var.sub(vars[j]).mul_(w));
                }
            }
            for (int j = 0; j < layers.Count; j++)
            {
                layers[j].Mean.copy_(means[j]);
                layers[j].Var.copy_(vars[j]);
            }
            return layers.Count;
        }
        catch
        {
            // A failed pass leaves the statistics as they were before the call.
            using var noGrad = no_grad();
            for (int j = 0; j < layers.Count; j++)
            {
                layers[j].Mean.copy_(saved[2 * j]);
                layers[j].Var.copy_(saved[2 * j + 1]);
            }
            throw;
        }
        finally
        {
            for (int j = 0; j < layers.Count; j++) layers[j].Bn.momentum = momenta[j];
            foreach (var t in means) t.Dispose();
            foreach (var t in vars) t.Dispose();
            foreach (var t in saved) t.Dispose();
            torch.random.set_rng_state(rng);
            rng.Dispose();
        }
    }

    /// <summary>A batch-norm layer; the buffers are read through the module each time (a forward pass may replace them).</summary>
    private sealed record Layer(string Name, BatchNorm Bn)
    {
        public Tensor Mean => Bn.running_mean!;
        public Tensor Var => Bn.running_var!;
        public Tensor Count => Bn.num_batches_tracked!;
    }
}
