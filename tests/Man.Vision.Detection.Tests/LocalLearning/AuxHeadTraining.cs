using Man.Local;
using Man.Vision.Detection.LocalLearning;
using Man.Vision.Detection.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.LocalLearning;

/// <summary>Trains a small stem and an auxiliary detection head on synthetic squares (shared by the head tests).</summary>
internal static class AuxHeadTraining
{
    /// <summary>
    /// Adam on an 8-channel stride-4 stem plus <paramref name="head"/> for <paramref name="steps"/> steps on 8 images of
    /// 64²; asserts that the first step's gradient reaches the stem and returns the first and the last loss.
    /// </summary>
    public static (double First, double Last) Train(AuxiliaryHead<DetectionTargets> head, int steps, double lr)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(2);
        var (images, targets) = SyntheticSquares.Make(8, 64, seed: 3);
        Tensor batch = torch.stack(images);
        var dt = new DetectionTargets(targets, images.Select(_ => new ImageSize(64, 64)).ToList(), new ImageSize(64, 64));
        var stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride: 4, padding: 1), nn.ReLU());
        var optimizer = torch.optim.Adam(stem.parameters().Concat(head.parameters()), lr: lr);
        double first = 0, last = 0;
        for (int step = 0; step < steps; step++)
        {
            using var s = NewDisposeScope();
            Tensor loss = head.Loss(stem.call(batch), dt);
            optimizer.zero_grad();
            loss.backward();
            if (step == 0)
                Assert.Contains(stem.parameters(), p => p.grad is not null && p.grad.abs().sum().item<float>() > 0);
            optimizer.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        return (first, last);
    }
}
