using Man.Vision.Detection.Heads;
using Man.Vision.Detection.Models;
using Man.Vision.Detection.Ops;
using Man.Vision.Detection.Rpn;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Models;

public sealed class SyntheticTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void ATinyDetectorLearnsToFindSquares()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(0);
        var options = new FasterRcnnOptions
        {
            NumClasses = 2,
            Transform = new TransformOptions { MinSize = [64], MaxSize = 64 },
            Rpn = new RpnOptions
            {
                AnchorSizes = [[16], [32], [64]], AspectRatios = [[1.0]],
                PreNmsTopNTrain = 200, PreNmsTopNTest = 100, PostNmsTopNTrain = 100, PostNmsTopNTest = 50, BatchSizePerImage = 64,
            },
            RoiHeads = new RoiHeadsOptions { FeatureNames = ["0", "1"], RepresentationSize = 64, BatchSizePerImage = 64 },
        };
        var model = FasterRcnn.Create(options, TinyBody.WithFpn(16));
        var (images, targets) = SyntheticSquares.Make(64, 64, seed: 1);
        var (testImages, testTargets) = SyntheticSquares.Make(16, 64, seed: 2);
        var optimizer = torch.optim.Adam(model.parameters(), lr: 3e-3);
        model.train();
        var curve = new List<double>();
        const int steps = 150, batch = 2;
        for (int step = 0; step < steps; step++)
        {
            using var stepScope = NewDisposeScope();
            int start = step * batch % images.Count;
            var losses = model.ComputeLosses(images.GetRange(start, batch), targets.GetRange(start, batch));
            Tensor total = losses.Values.Aggregate((a, b) => a + b);
            optimizer.zero_grad();
            total.backward();
            optimizer.step();
            curve.Add(total.item<float>());
        }
        double first = curve.Take(20).Average(), last = curve.Skip(steps - 20).Average();
        output.WriteLine($"loss: first 20 steps {first:F3}, last 20 steps {last:F3}");
        Assert.True(last < 0.5 * first, $"The loss fell from {first:F3} to {last:F3} only.");

        model.eval();
        var detections = model.Predict(testImages);
        int found = 0, total2 = 0;
        for (int i = 0; i < testImages.Count; i++)
        {
            Tensor gt = testTargets[i].Boxes;
            total2 += (int)gt.shape[0];
            Tensor confident = detections[i].Scores.gt(0.5);
            Tensor boxes = detections[i].Boxes[confident];
            if (boxes.shape[0] == 0) continue;
            found += (int)BoxOps.Iou(gt, boxes).max(1).values.ge(0.5).sum().item<long>();
        }
        double recall = found / (double)total2;
        output.WriteLine($"recall at IoU 0.5, score > 0.5: {found}/{total2} = {recall:P0}");
        Assert.True(recall >= 0.8, $"Only {found} of {total2} squares were found.");
    }
}
