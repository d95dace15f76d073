using System.Diagnostics;
using TorchSharp;

namespace Man.Vision.Data.Loading;

/// <summary>
/// A <c>torch.utils.data.DataLoader</c>-like batcher: each epoch's order is drawn from a seed, and batches are built
/// (samples loaded, augmented and collated) on background worker threads while the consumer computes; at most
/// <see cref="LoaderOptions.Prefetch"/> batches are built ahead. Batches come out in plan order, whatever the
/// number of workers, and are bit-identical for the same seed.
/// </summary>
/// <typeparam name="TSample">What the sample function returns for one index (a record, possibly holding tensors).</typeparam>
/// <typeparam name="TBatch">What the collate function makes of a batch's samples.</typeparam>
/// <remarks>
/// <para><b>Randomness.</b> The sample function gets a generator seeded from (seed, epoch, index) and the collate function
/// one seeded from (seed, epoch, batch index) (<see cref="Seeds.Derive"/>), so results do not depend on which worker
/// did the work, nor on the number of workers.</para>
/// <para><b>Tensors and disposal.</b> Each batch is built inside a dispose scope of the worker: every tensor the sample and
/// collate functions create is freed when the batch is done, except the batch's own, which
/// <see cref="ILoaderBatch.DetachFromDisposeScope"/> takes out. The consumer owns every batch it receives and must
/// dispose it; batches built ahead but never consumed (early <c>break</c>, an exception, cancellation) are disposed by
/// the loader when the enumeration ends.</para>
/// <para><b>Bad input and errors.</b> A sample function returns null to leave a sample out (e.g. after
/// <c>BadInputLog.Handle</c> under <c>OnBad.Skip</c>); a batch whose samples were all left out is not delivered. An
/// exception thrown while building batch b is rethrown, as it is (type, message with the file name, stack), to the
/// consumer when it reaches batch b; the epoch then ends. Cancelling the token ends the epoch with an
/// <see cref="OperationCanceledException"/>.</para>
/// </remarks>
public sealed class PrefetchLoader<TSample, TBatch>
    where TSample : class
    where TBatch : class, ILoaderBatch
{
    private readonly Func<int, SampleContext, TSample?> _loadSample;
    private readonly Func<IReadOnlyList<TSample>, BatchContext, TBatch> _collate;
    private readonly Func<int, IReadOnlyList<int[]>> _plan;

    /// <summary>Creates a loader over <paramref name="count"/> samples.</summary>
    /// <param name="count">The number of samples (indices 0..count-1).</param>
    /// <param name="loadSample">Loads sample <c>index</c>; returns null to leave it out. Called on worker threads, concurrently.</param>
    /// <param name="collate">Makes a batch of loaded samples (in plan order). Called on worker threads, concurrently.</param>
    /// <param name="options">Batch size, shuffling, seed, workers, prefetch.</param>
    /// <param name="batchPlan">Optional custom order: epoch → batches of indices (e.g. grouped by aspect ratio); by default
    /// <see cref="BatchPlan.Create"/> with the options.</param>
    public PrefetchLoader(
        int count,
        Func<int, SampleContext, TSample?> loadSample,
        Func<IReadOnlyList<TSample>, BatchContext, TBatch> collate,
        LoaderOptions options,
        Func<int, IReadOnlyList<int[]>>? batchPlan = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentNullException.ThrowIfNull(loadSample);
        ArgumentNullException.ThrowIfNull(collate);
        ArgumentNullException.ThrowIfNull(options);
        Count = count;
        Options = options;
        _loadSample = loadSample;
        _collate = collate;
        _plan = batchPlan ?? (epoch => BatchPlan.Create(count, options.BatchSize, options.Shuffle, options.DropLast, options.Seed, epoch));
    }

    /// <summary>The number of samples.</summary>
    public int Count { get; }

    /// <summary>The options.</summary>
    public LoaderOptions Options { get; }

    /// <summary>Batches per epoch with the default plan (<c>ceil</c> or <c>floor</c> of Count / BatchSize by <see cref="LoaderOptions.DropLast"/>).</summary>
    public int BatchesPerEpoch => Options.DropLast ? Count / Options.BatchSize : (Count + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>Statistics of the last epoch that ended (null before).</summary>
    public LoaderStatistics? LastEpoch { get; private set; }

    /// <summary>
    /// The batches of epoch <paramref name="epoch"/>, built ahead on background threads. Workers start when the
    /// enumeration starts and stop when it ends (also on <c>break</c>).
    /// </summary>
    public IEnumerable<TBatch> Epoch(int epoch, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var plan = _plan(epoch) ?? throw new InvalidOperationException($"The batch plan returned null for epoch {epoch}.");
        foreach (var batch in plan)
        {
            ArgumentNullException.ThrowIfNull(batch, "batch plan entry");
            foreach (int i in batch)
                if ((uint)i >= (uint)Count)
                    throw new ArgumentOutOfRangeException(nameof(epoch), i, $"The batch plan of epoch {epoch} names index {i}, outside 0..{Count - 1}.");
        }
        return Run(plan, epoch, cancellationToken);
    }

    private IEnumerable<TBatch> Run(IReadOnlyList<int[]> plan, int epoch, CancellationToken cancellationToken)
    {
        int n = plan.Count;
        var results = new TaskCompletionSource<TBatch?>[n];
        for (int b = 0; b < n; b++) results[b] = new TaskCompletionSource<TBatch?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var taken = new bool[n];
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var slots = new SemaphoreSlim(Options.Prefetch);
        int next = -1;
        long busyTicks = 0;
        int skipped = 0;
        var clock = Stopwatch.StartNew();

        void Work()
        {
            var token = cts.Token;
            while (true)
            {
                try
                {
                    slots.Wait(token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                int b = Interlocked.Increment(ref next);
                if (b >= n)
                {
                    slots.Release();
                    return;
                }
                long start = Stopwatch.GetTimestamp();
                try
                {
                    int skippedHere = 0;
                    TBatch? batch;
                    try
                    {
                        batch = Build(plan[b], b, epoch, token, ref skippedHere);
                    }
                    catch (System.Runtime.InteropServices.ExternalException) when (!token.IsCancellationRequested)
                    {
                        // A native error in a transform can be TorchSharp's race between a temporary Scalar's finalizer
                        // and the call using it (see Man.Runtime.RootedScalars). Samples are seeded by (epoch, index), so
                        // building the batch again gives exactly the same batch; a real error fails again and surfaces.
                        skippedHere = 0;
                        batch = Build(plan[b], b, epoch, token, ref skippedHere);
                    }
                    Interlocked.Add(ref skipped, skippedHere);
                    if (!results[b].TrySetResult(batch)) batch?.Dispose();
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    results[b].TrySetCanceled(token);
                    return;
                }
                catch (Exception e)
                {
                    results[b].TrySetException(e);
                }
                finally
                {
                    Interlocked.Add(ref busyTicks, Stopwatch.GetTimestamp() - start);
                }
            }
        }

        var workers = new Thread[Math.Min(Options.Workers, Math.Max(n, 1))];
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = new Thread(Work) { IsBackground = true, Name = $"loader-worker-{w}" };
            workers[w].Start();
        }

        int delivered = 0, samples = 0, notReady = 0;
        var waited = TimeSpan.Zero;
        try
        {
            for (int b = 0; b < n; b++)
            {
                var task = results[b].Task;
                if (!task.IsCompleted)
                {
                    notReady++;
                    long t0 = Stopwatch.GetTimestamp();
                    try
                    {
                        task.Wait(cancellationToken);
                    }
                    catch (AggregateException)
                    {
                        // rethrown unwrapped below
                    }
                    waited += Stopwatch.GetElapsedTime(t0);
                }
                cancellationToken.ThrowIfCancellationRequested();
                taken[b] = true;
                var batch = task.GetAwaiter().GetResult();
                slots.Release();
                if (batch is null) continue;
                delivered++;
                samples += SampleCount(plan[b], batch);
                yield return batch;
            }
        }
        finally
        {
            cts.Cancel();
            foreach (var t in workers) t.Join();
            for (int b = 0; b < n; b++)
            {
                if (!taken[b] && results[b].Task.IsCompletedSuccessfully) results[b].Task.Result?.Dispose();
            }
            LastEpoch = new LoaderStatistics(delivered, samples, Volatile.Read(ref skipped), notReady, waited,
                Stopwatch.GetElapsedTime(0, Volatile.Read(ref busyTicks)), clock.Elapsed);
        }
    }

    private static int SampleCount(int[] planned, TBatch batch) => batch is ICountedBatch c ? c.Count : planned.Length;

    private TBatch? Build(int[] indices, int batchIndex, int epoch, CancellationToken token, ref int skipped)
    {
        using var scope = torch.NewDisposeScope();
        var samples = new List<TSample>(indices.Length);
        var loaded = new List<int>(indices.Length);
        foreach (int i in indices)
        {
            token.ThrowIfCancellationRequested();
            int seed = Seeds.Derive(Options.Seed, Seeds.SampleStream, epoch, i);
            var sample = _loadSample(i, new SampleContext(i, epoch, seed, new Random(seed)));
            if (sample is null)
            {
                Interlocked.Increment(ref skipped);
                continue;
            }
            samples.Add(sample);
            loaded.Add(i);
        }
        if (samples.Count == 0) return null;
        int batchSeed = Seeds.Derive(Options.Seed, Seeds.BatchStream, epoch, batchIndex);
        var batch = _collate(samples, new BatchContext(batchIndex, epoch, loaded, batchSeed, new Random(batchSeed)));
        if (batch is null) throw new InvalidOperationException($"The collate function returned null for batch {batchIndex} of epoch {epoch}.");
        batch.DetachFromDisposeScope();
        return batch;
    }
}
