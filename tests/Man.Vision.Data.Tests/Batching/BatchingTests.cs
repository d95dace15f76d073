using Man.Testing;
using Man.Vision.Data.Batching;
using Man.Vision.Data.Coco;
using Man.Vision.Data.DetectionTransforms;
using Man.Vision.Data.Loading;
using Man.Vision.Data.Records;
using Man.Vision.Data.Segmentation;
using Man.Vision.Data.Synthetic;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Data.Tests.Batching;

public sealed class BatchingTests
{
    [Fact]
    public void PadStack_pads_to_a_multiple_of_32_top_left()
    {
        using var scope = NewDisposeScope();
        var a = ones(3, 40, 50);
        var b = full(new long[] { 3, 65, 20 }, 2f);
        var batch = BatchPadding.PadStack([a, b]);
        Assert.Equal(new long[] { 2, 3, 96, 64 }, batch.shape);
        Assert.Equal(3 * 40 * 50, batch[0].sum().item<float>());
        Assert.Equal(2f * 3 * 65 * 20, batch[1].sum().item<float>());
        Assert.Equal(2f, batch[1, 2, 64, 19].item<float>());
        Assert.Equal(0f, batch[1, 2, 65, 19].item<float>());
        var labels = BatchPadding.PadStack([zeros(10, 10, ScalarType.Int64)], 32, LabelEncoding.Ignore);
        Assert.Equal(32 * 32 - 100, labels.eq(255).sum().item<long>());
        Assert.Equal(33, BatchPadding.RoundUp(33, 1));
        Assert.Equal(64, BatchPadding.RoundUp(33, 32));
    }

    [Fact]
    public void Detection_loader_is_deterministic_keeps_sizes_and_targets_aligned()
    {
        using var tmp = new TempDir();
        SyntheticDataWriter.Write(SyntheticTask.Detect, tmp.Path, 10, seed: 5, new SyntheticOptions(Width: 96, Height: 64, MinSize: 8, MaxSize: 40, MaxObjects: 3));
        var ds = CocoReader.Read(SyntheticLayout.CocoJson(tmp.Path, "train"), SyntheticLayout.ImageDir(tmp.Path));
        var mapper = new DetectionMapper(ds, DetectionCompose.Train([80, 100], 200), new DetectionMapperOptions(LoadMasks: true));

        List<(float Sum, float[] Boxes, (int, int)[] Sizes)> Run(int workers)
        {
            var loader = DataLoaders.Detection(mapper, new LoaderOptions { BatchSize = 3, Shuffle = true, Seed = 11, Workers = workers });
            var list = new List<(float, float[], (int, int)[])>();
            foreach (var batch in loader.Epoch(1))
            {
                using (batch)
                {
                    Assert.Equal(0, batch.Images.shape[2] % 32);
                    Assert.Equal(0, batch.Images.shape[3] % 32);
                    for (int i = 0; i < batch.Count; i++)
                    {
                        var (h, w) = batch.ImageSizes[i];
                        Assert.True(Math.Min(h, w) is 80 or 100, $"{h}x{w}");
                        var t = batch.Targets[i];
                        Assert.Equal(new long[] { t.Count, h, w }, t.Masks!.shape);
                        if (t.Count > 0)
                        {
                            Assert.True(t.Boxes[.., 2].le(w).all().item<bool>() && t.Boxes[.., 3].le(h).all().item<bool>());
                            // Each resized mask lies within one pixel of its box.
                            for (int k = 0; k < t.Count; k++)
                            {
                                var nz = t.Masks[k].nonzero();
                                if (nz.shape[0] == 0) continue;
                                Assert.True(nz[.., 1].min().item<long>() >= t.Boxes[k, 0].item<float>() - 1);
                                Assert.True(nz[.., 1].max().item<long>() <= t.Boxes[k, 2].item<float>() + 1);
                            }
                        }
                    }
                    list.Add((batch.Images.sum().item<float>(), batch.Targets.SelectMany(t => t.Boxes.data<float>().ToArray()).ToArray(), batch.ImageSizes.ToArray()));
                }
            }
            return list;
        }

        var one = Run(1);
        var two = Run(2);
        Assert.Equal(one.Count, two.Count);
        for (int b = 0; b < one.Count; b++)
        {
            Assert.Equal(one[b].Sum, two[b].Sum);
            Assert.Equal(one[b].Boxes, two[b].Boxes);
            Assert.Equal(one[b].Sizes, two[b].Sizes);
        }
        Assert.Equal(ds.Images.Count, one.Sum(b => b.Sizes.Length));
    }

    [SharedDataFact]
    public void Throughput_is_measured_for_camvid_and_tiny_coco_with_1_and_2_workers()
    {
        var cam = DataThroughput.CamVid(SharedData.Path("camvid"), [1, 2], images: 8, batchSize: 4, crop: 256);
        var coco = DataThroughput.Coco(SharedData.Path("tiny-coco/instances_train2017_small.json"), SharedData.Path("tiny-coco/train_2017_small"),
            [1, 2], images: 8, batchSize: 4);
        foreach (var r in cam.Concat(coco))
        {
            Assert.True(r.Images >= 8 && r.ImagesPerSecond > 0.2, r.ToString());
        }
        Assert.Equal([1, 2], cam.Select(r => r.Workers));
        Assert.Equal([1, 2], coco.Select(r => r.Workers));
    }
}
