using System.Collections.Concurrent;
using Man.Vision.Data.Images;
using Man.Vision.Data.Loading;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Data.Tests.Loading;

public sealed class PrefetchLoaderTests
{
    private sealed class Item(int index, int draw)
    {
        public int Index { get; } = index;
        public int Draw { get; } = draw;
    }

    private sealed class IntBatch(int[] indices, int[] draws, int collateDraw, Tensor values) : ILoaderBatch, ICountedBatch
    {
        public int[] Indices { get; } = indices;
        public int[] Draws { get; } = draws;
        public int CollateDraw { get; } = collateDraw;
        public Tensor Values { get; } = values;
        public int Count => Indices.Length;
        public void DetachFromDisposeScope() => Values.DetachFromDisposeScope();
        public void Dispose() => Values.Dispose();
    }

    private sealed class Probe
    {
        public ConcurrentBag<Tensor> Temporaries { get; } = [];
        public ConcurrentBag<Tensor> Results { get; } = [];
        public int Built;
    }

    private static PrefetchLoader<Item, IntBatch> Make(int count, LoaderOptions options, Probe? probe = null,
        Func<int, Item?>? sampleOverride = null, Action<int>? onBuild = null)
    {
        return new PrefetchLoader<Item, IntBatch>(
            count,
            (i, ctx) => sampleOverride is null ? new Item(i, ctx.Random.Next(1000)) : sampleOverride(i),
            (items, ctx) =>
            {
                var idx = items.Select(s => s.Index).ToArray();
                var temp = torch.tensor(idx.Select(i => (long)i).ToArray());
                var values = temp.mul(2); // the batch's tensor; temp must be freed by the worker's scope
                probe?.Temporaries.Add(temp);
                probe?.Results.Add(values);
                onBuild?.Invoke(ctx.BatchIndex);
                if (probe is not null) Interlocked.Increment(ref probe.Built);
                return new IntBatch(idx, items.Select(s => s.Draw).ToArray(), ctx.Random.Next(1000), values);
            },
            options);
    }

    private static List<(int[] Indices, int[] Draws, int CollateDraw, long[] Values)> Drain(PrefetchLoader<Item, IntBatch> loader, int epoch)
    {
        var list = new List<(int[], int[], int, long[])>();
        foreach (var b in loader.Epoch(epoch))
            using (b)
                list.Add((b.Indices, b.Draws, b.CollateDraw, b.Values.data<long>().ToArray()));
        return list;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Every_index_once_per_epoch_in_a_seeded_order_independent_of_workers(int workers)
    {
        var opts = new LoaderOptions { BatchSize = 7, Shuffle = true, Seed = 42, Workers = workers, Prefetch = 3 };
        var probe = new Probe();
        var loader = Make(100, opts, probe);
        Assert.Equal(15, loader.BatchesPerEpoch);
        var e0 = Drain(loader, 0);
        Assert.Equal(15, e0.Count);
        Assert.Equal(Enumerable.Range(0, 100), e0.SelectMany(b => b.Indices).Order());
        Assert.Equal(2, e0[^1].Indices.Length);
        Assert.NotEqual(Enumerable.Range(0, 100), e0.SelectMany(b => b.Indices)); // shuffled
        foreach (var b in e0) Assert.Equal(b.Indices.Select(i => 2L * i), b.Values);
        Assert.Equal(new LoaderStatistics(15, 100, 0, loader.LastEpoch!.NotReady, loader.LastEpoch.ConsumerWait, loader.LastEpoch.WorkerBusy, loader.LastEpoch.Elapsed), loader.LastEpoch);

        // Same seed and epoch: identical batches and random draws, whatever the number of workers.
        var again = Drain(Make(100, opts with { Workers = 1 }), 0);
        Assert.Equal(e0.Select(b => b.Indices), again.Select(b => b.Indices));
        Assert.Equal(e0.Select(b => b.Draws), again.Select(b => b.Draws));
        Assert.Equal(e0.Select(b => b.CollateDraw), again.Select(b => b.CollateDraw));

        // Another epoch or another seed: another order.
        var e1 = Drain(loader, 1);
        Assert.Equal(Enumerable.Range(0, 100), e1.SelectMany(b => b.Indices).Order());
        Assert.NotEqual(e0.SelectMany(b => b.Indices), e1.SelectMany(b => b.Indices));
        var other = Drain(Make(100, opts with { Seed = 43 }), 0);
        Assert.NotEqual(e0.SelectMany(b => b.Indices), other.SelectMany(b => b.Indices));

        // Temporaries were freed by the workers' scopes; the delivered batches were disposed by the consumer.
        Assert.All(probe.Temporaries, t => Assert.True(t.IsInvalid));
        Assert.All(probe.Results, t => Assert.True(t.IsInvalid));
    }

    [Fact]
    public void Sequential_order_and_drop_last()
    {
        var loader = Make(10, new LoaderOptions { BatchSize = 4, DropLast = true });
        Assert.Equal(2, loader.BatchesPerEpoch);
        var batches = Drain(loader, 0);
        Assert.Equal(new[] { new[] { 0, 1, 2, 3 }, new[] { 4, 5, 6, 7 } }, batches.Select(b => b.Indices));
    }

    [Fact]
    public void Workers_build_ahead_of_a_slow_consumer_but_no_further_than_prefetch()
    {
        const int prefetch = 3;
        var probe = new Probe();
        var loader = Make(40, new LoaderOptions { BatchSize = 4, Workers = 2, Prefetch = prefetch }, probe);
        int k = 0;
        foreach (var b in loader.Epoch(0))
        {
            using (b)
            {
                // While the consumer holds batch k, workers build batches k+1..k+prefetch (so k+1+prefetch in all).
                int expected = Math.Min(k + 1 + prefetch, 10);
                var deadline = DateTime.UtcNow.AddSeconds(10);
                while (Volatile.Read(ref probe.Built) < expected && DateTime.UtcNow < deadline) Thread.Sleep(2);
                Assert.Equal(expected, Volatile.Read(ref probe.Built));
                Thread.Sleep(5);
                Assert.True(Volatile.Read(ref probe.Built) <= expected, "built beyond the prefetch bound");
            }
            k++;
        }
        Assert.Equal(10, k);
        Assert.Equal(10, loader.LastEpoch!.Batches);
    }

    [Fact]
    public void A_worker_exception_reaches_the_consumer_with_the_file_name_and_unconsumed_batches_are_freed()
    {
        var probe = new Probe();
        var loader = Make(50, new LoaderOptions { BatchSize = 5, Workers = 2, Prefetch = 4 }, probe,
            sampleOverride: i => i == 23
                ? throw new ImageDecodeException(ImageDecodeException.TruncatedKind, "/data/cat/023.jpg", "the image is truncated.")
                : new Item(i, 0));
        var seen = new List<int>();
        var e = Assert.Throws<ImageDecodeException>(() =>
        {
            foreach (var b in loader.Epoch(0)) using (b) seen.AddRange(b.Indices);
        });
        Assert.Contains("/data/cat/023.jpg", e.Message);
        Assert.Equal(Enumerable.Range(0, 20), seen); // batches before the failing one were delivered in order
        Assert.All(probe.Temporaries, t => Assert.True(t.IsInvalid));
        Assert.All(probe.Results, t => Assert.True(t.IsInvalid)); // built-ahead batches after the failure were disposed
    }

    [Fact]
    public void Break_disposes_batches_built_ahead()
    {
        var probe = new Probe();
        var loader = Make(100, new LoaderOptions { BatchSize = 2, Workers = 2, Prefetch = 5 }, probe);
        foreach (var b in loader.Epoch(0))
        {
            using (b)
            {
                var deadline = DateTime.UtcNow.AddSeconds(10);
                while (Volatile.Read(ref probe.Built) < 5 && DateTime.UtcNow < deadline) Thread.Sleep(2);
            }
            break;
        }
        Assert.True(probe.Built >= 5);
        Assert.All(probe.Results, t => Assert.True(t.IsInvalid));
        Assert.Equal(1, loader.LastEpoch!.Batches);
    }

    [Fact]
    public void Cancellation_ends_the_epoch()
    {
        using var cts = new CancellationTokenSource();
        var probe = new Probe();
        var loader = Make(100, new LoaderOptions { BatchSize = 2, Workers = 2 }, probe);
        int got = 0;
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var b in loader.Epoch(0, cts.Token))
            {
                using (b) got++;
                if (got == 3) cts.Cancel();
            }
        });
        Assert.Equal(3, got);
        Assert.All(probe.Results, t => Assert.True(t.IsInvalid));
    }

    [Fact]
    public void Null_samples_are_left_out_and_empty_batches_not_delivered()
    {
        var loader = Make(12, new LoaderOptions { BatchSize = 3 }, sampleOverride: i => i is >= 3 and < 6 || i % 5 == 0 ? null : new Item(i, 0));
        var batches = Drain(loader, 0);
        // nulls: 0, 3, 4, 5, 10; the batch [3, 4, 5] is empty and not delivered.
        Assert.Equal(new[] { new[] { 1, 2 }, new[] { 6, 7, 8 }, new[] { 9, 11 } }, batches.Select(b => b.Indices));
        Assert.Equal(5, loader.LastEpoch!.Skipped);
        Assert.Equal(7, loader.LastEpoch.Samples);
        Assert.Equal(3, loader.LastEpoch.Batches);
    }

    [Fact]
    public void A_custom_plan_with_an_index_out_of_range_is_rejected()
    {
        var loader = new PrefetchLoader<Item, IntBatch>(5, (i, _) => new Item(i, 0),
            (s, _) => throw new InvalidOperationException(), new LoaderOptions(), _ => [[0, 5]]);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => loader.Epoch(0));
        Assert.Contains("index 5", e.Message);
    }

    [Fact]
    public void A_native_error_in_a_batch_is_retried_once_and_gives_the_same_batch()
    {
        var options = new LoaderOptions { BatchSize = 3, Workers = 2, Seed = 7, Shuffle = true };
        var expected = Drain(Make(12, options), 1);
        int failures = 0;
        var flaky = Make(12, options, onBuild: b =>
        {
            // The first build of batch 2 fails as TorchSharp's scalar race does (a native ExternalException).
            if (b == 2 && Interlocked.Increment(ref failures) == 1)
                throw new System.Runtime.InteropServices.ExternalException("Unknown scalar type.");
        });
        var actual = Drain(flaky, 1);
        Assert.Equal(2, failures);
        Assert.Equal(expected.Select(b => b.Indices), actual.Select(b => b.Indices));
        Assert.Equal(expected.Select(b => b.Draws), actual.Select(b => b.Draws));
        Assert.Equal(expected.Select(b => b.CollateDraw), actual.Select(b => b.CollateDraw));
        Assert.Equal(expected.Select(b => b.Values), actual.Select(b => b.Values));

        // An error that persists surfaces after the one retry.
        var broken = Make(12, options, onBuild: b => { if (b == 1) throw new System.Runtime.InteropServices.ExternalException("persistent"); });
        Assert.Throws<System.Runtime.InteropServices.ExternalException>(() => Drain(broken, 1));
    }

    [Fact]
    public void Options_are_validated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LoaderOptions { BatchSize = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new LoaderOptions { Workers = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new LoaderOptions { Prefetch = 0 });
    }
}
