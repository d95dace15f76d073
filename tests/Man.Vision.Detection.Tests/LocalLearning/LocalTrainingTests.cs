using Man.Local;
using Man.Vision.Detection.LocalLearning;
using Man.Vision.Detection.Models;
using TorchSharp;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.LocalLearning;

/// <summary>
/// The engine's loop by hand on a two-block detector (block 1 = a strided conv with an auxiliary dense head, block 2 =
/// a second conv and the Faster R-CNN main head on both blocks' outputs, the first detached): both learn.
/// </summary>
public sealed class LocalTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void GreedyLocalTrainingOfATinyDetectorLowersBothLosses()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(5);
        var options = Tests.Models.TinyFasterRcnnTests.TinyOptions with
        {
            NumClasses = 2,
            Transform = new TransformOptions { MinSize = [64], MaxSize = 64 },
            Rpn = new Rpn.RpnOptions { AnchorSizes = [[16], [32], [64]], AspectRatios = [[1.0]], BatchSizePerImage = 64,
                PreNmsTopNTrain = 200, PostNmsTopNTrain = 100, PreNmsTopNTest = 100, PostNmsTopNTest = 50 },
            RoiHeads = new Heads.RoiHeadsOptions { FeatureNames = ["0", "1"], RepresentationSize = 64, BatchSizePerImage = 64 },
        };
        var block1 = nn.Sequential(nn.Conv2d(3, 16, 3, stride: 4, padding: 1), nn.ReLU());
        var block2 = nn.Sequential(nn.Conv2d(16, 16, 3, stride: 2, padding: 1), nn.ReLU());
        var task = new DetectionLocalTask([new FeatureTap(0, 16, 4), new FeatureTap(1, 16, 8)], options,
            new DenseHeadOptions { Width = 32, MinStride = 8, AnchorSizes = [16, 32], AspectRatios = [1.0] }, fpnChannels: 16);
        var aux = task.CreateAuxiliaryHead(new AuxiliaryHeadContext(0, [16, 16, 16], [3, 64, 64]));
        var main = task.MainHead;
        var parameters = block1.parameters().Concat(block2.parameters()).Concat(aux.parameters()).Concat(main.parameters()).ToList();
        var optimizer = torch.optim.Adam(parameters, lr: 3e-3);
        var transform = new GeneralizedRcnnTransform(options.Transform);
        var (images, targets) = SyntheticSquares.Make(32, 64, seed: 6);
        main.train();

        var auxCurve = new List<double>();
        var mainCurve = new List<double>();
        for (int step = 0; step < 100; step++)
        {
            using var s = NewDisposeScope();
            int start = step * 2 % images.Count;
            var (batch, scaled) = transform.Apply(images.GetRange(start, 2), targets.GetRange(start, 2), training: true);
            var target = DetectionTargets.From(batch, scaled!);
            optimizer.zero_grad();
            Tensor h1 = block1.call(batch.Tensors.detach());
            Tensor auxLoss = aux.Loss(h1, target);
            auxLoss.backward();
            Tensor h1d = h1.detach();
            Tensor h2 = block2.call(h1d);
            var losses = main.Losses(new Dictionary<int, Tensor> { [0] = h1d, [1] = h2 }, h2, target);
            Tensor mainLoss = losses.Values.Aggregate((a, b) => a + b);
            if (step == 0)
            {
                // Block 1's gradient comes from its auxiliary head only.
                Tensor before = block1.parameters().First().grad!.clone();
                mainLoss.backward();
                Assert.Equal(0f, (block1.parameters().First().grad! - before).abs().max().item<float>());
            }
            else mainLoss.backward();
            optimizer.step();
            auxCurve.Add(auxLoss.item<float>());
            mainCurve.Add(mainLoss.item<float>());
        }
        double a0 = auxCurve.Take(10).Average(), a1 = auxCurve.Skip(90).Average();
        double m0 = mainCurve.Take(10).Average(), m1 = mainCurve.Skip(90).Average();
        output.WriteLine($"aux {a0:F3} → {a1:F3}, main {m0:F3} → {m1:F3}");
        Assert.True(a1 < 0.6 * a0, $"auxiliary loss {a0:F3} → {a1:F3}");
        Assert.True(m1 < 0.6 * m0, $"main loss {m0:F3} → {m1:F3}");
    }
}
