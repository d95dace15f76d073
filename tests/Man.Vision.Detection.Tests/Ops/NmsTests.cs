using Newtonsoft.Json.Linq;
using Man.Vision.Detection.Ops;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Ops;

public sealed class NmsTests(ITestOutputHelper output)
{
    [Fact]
    public void EqualsTorchvisionNmsAndBatchedNms()
    {
        using var scope = NewDisposeScope();
        var fx = Fixture.Load("nms.json");
        Tensor boxes = Fixture.Tensor(fx["boxes"]!);
        Tensor scores = Fixture.Tensor(fx["scores"]!);
        Tensor idxs = tensor(Fixture.Longs(fx["idxs"]!));
        foreach (var c in fx["cases"]!.Children())
        {
            double thr = c["iou"]!.Value<double>();
            Assert.Equal(Fixture.Longs(c["keep"]!), BoxOps.Nms(boxes, scores, thr).data<long>().ToArray());
            Assert.Equal(Fixture.Longs(c["batched_keep"]!), BoxOps.BatchedNms(boxes, scores, idxs, thr).data<long>().ToArray());
        }
    }

    [Theory]
    [InlineData(1, 500, 0.5)]
    [InlineData(2, 1000, 0.3)]
    [InlineData(3, 777, 0.7)]
    [InlineData(4, 3, 0.5)]
    public void EqualsABruteForceReference(long seed, int n, double thr)
    {
        using var scope = NewDisposeScope();
        Tensor boxes = NmsBenchmark.RandomBoxes(n, seed, out Tensor scores);
        // Snap some coordinates to a coarse grid so exact ties of IoU and scores occur.
        boxes = (boxes / 8).round() * 8;
        scores = (scores * 50).round() / 50;
        Tensor groups = (scores * 1000).to(ScalarType.Int64) % 4;
        float[] b = boxes.data<float>().ToArray();
        float[] s = scores.data<float>().ToArray();
        long[] g = groups.data<long>().ToArray();
        Assert.Equal(BruteForce(b, s, null, thr), BoxOps.Nms(boxes, scores, thr).data<long>().ToArray());
        Assert.Equal(BruteForce(b, s, g, thr), BoxOps.BatchedNms(boxes, scores, groups, thr).data<long>().ToArray());
    }

    [Fact]
    public void EmptyInputKeepsNothing()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(0, BoxOps.Nms(zeros(0, 4), zeros(0), 0.5).shape[0]);
    }

    [Fact]
    public void FiveThousandBoxesOfTheBenchmarkEqualTheBruteForce()
    {
        // The `bench nms` workload (its timing lives in the benchmark, never in a test): the kept boxes equal the
        // textbook reference, and the benchmark measures the same call.
        using var scope = NewDisposeScope();
        Tensor boxes = NmsBenchmark.RandomBoxes(5000, 0, out Tensor scores);
        float[] b = boxes.data<float>().ToArray();
        float[] s = scores.data<float>().ToArray();
        foreach (double thr in new[] { 0.5, 0.7 })
        {
            long[] keep = BoxOps.Nms(boxes, scores, thr).data<long>().ToArray();
            Assert.Equal(BruteForce(b, s, null, thr), keep);
            Assert.InRange(keep.Length, 1, 4999);
        }
        double ms = NmsBenchmark.Run(5000, 0.5, 3);
        output.WriteLine($"NMS 5000 boxes IoU 0.5: median {ms:F2} ms (not asserted; see `man-vision bench nms`)");
        Assert.True(double.IsFinite(ms) && ms > 0);
    }

    /// <summary>Textbook greedy NMS: stable order by score, IoU computed pairwise in float as torchvision does.</summary>
    private static long[] BruteForce(float[] b, float[] s, long[]? g, double thr)
    {
        int n = s.Length;
        var order = Enumerable.Range(0, n).OrderByDescending(i => s[i]).ThenBy(i => i).ToArray();
        var removed = new bool[n];
        var keep = new List<long>();
        foreach (int i in order)
        {
            if (removed[i]) continue;
            keep.Add(i);
            foreach (int j in order)
            {
                if (j == i || removed[j] || (g is not null && g[i] != g[j])) continue;
                float ai = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]);
                float aj = (b[4 * j + 2] - b[4 * j]) * (b[4 * j + 3] - b[4 * j + 1]);
                float w = Math.Max(0f, Math.Min(b[4 * i + 2], b[4 * j + 2]) - Math.Max(b[4 * i], b[4 * j]));
                float h = Math.Max(0f, Math.Min(b[4 * i + 3], b[4 * j + 3]) - Math.Max(b[4 * i + 1], b[4 * j + 1]));
                float inter = w * h;
                float iou = inter / (ai + aj - inter);
                if (iou > thr && Array.IndexOf(order, j) > Array.IndexOf(order, i)) removed[j] = true;
            }
        }
        return keep.ToArray();
    }
}
