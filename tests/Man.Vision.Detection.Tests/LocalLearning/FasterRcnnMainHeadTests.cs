using Newtonsoft.Json.Linq;
using Man.Vision.Detection.LocalLearning;
using Man.Vision.Detection.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.LocalLearning;

public sealed class FasterRcnnMainHeadTests
{
    /// <summary>
    /// The main head on unit outputs computes the same losses as torchvision's FasterRCNN with the fixture weights
    /// (FPN/RPN/RoI heads renamed from backbone.fpn / rpn / roi_heads).
    /// </summary>
    [Fact]
    public void LossesOnUnitOutputsEqualTorchvision()
    {
        using var scope = NewDisposeScope();
        var fx = Fixture.Load("tiny_faster_rcnn.json");
        var state = fx["state_dict"]!.Children<JProperty>().ToDictionary(p => p.Name, p => Fixture.Tensor(p.Value));
        var head = new FasterRcnnMainHead([new FeatureTap(0, 8, 4), new FeatureTap(1, 8, 8)], Tests.Models.TinyFasterRcnnTests.TinyOptions, fpnChannels: 8);
        var headState = state.Where(kv => !kv.Key.StartsWith("backbone.body.")).ToDictionary(
            kv => kv.Key.StartsWith("backbone.fpn.") ? kv.Key["backbone.".Length..] : kv.Key, kv => kv.Value);
        var (missing, unexpected) = head.load_state_dict(headState, strict: false);
        Assert.Empty(missing);
        Assert.Empty(unexpected);
        var body = new TinyBody();
        body.load_state_dict(state.Where(kv => kv.Key.StartsWith("backbone.body.")).ToDictionary(kv => kv.Key["backbone.body.".Length..], kv => kv.Value));

        var images = fx["images"]!.Children().Select(Fixture.Tensor).ToList();
        var targets = fx["targets"]!.Children()
            .Select(t => new DetectionTarget(Fixture.Tensor(t["boxes"]!), tensor(Fixture.Longs(t["labels"]!)))).ToList();
        var transform = new GeneralizedRcnnTransform(Tests.Models.TinyFasterRcnnTests.TinyOptions.Transform);
        var (batch, scaled) = transform.Apply(images, targets, training: true);
        var maps = body.call(batch.Tensors);
        // Earlier blocks' outputs arrive detached.
        var outputs = new Dictionary<int, Tensor> { [0] = maps["0"].detach(), [1] = maps["1"] };
        head.train();
        var losses = head.Losses(outputs, maps["1"], DetectionTargets.From(batch, scaled!));
        foreach (var p in fx["losses"]!.Children<JProperty>())
        {
            double e = p.Value.Value<double>(), a = losses[p.Name].item<float>();
            Assert.True(Math.Abs(a - e) <= 1e-5 * Math.Max(1, Math.Abs(e)), $"{p.Name}: {a} vs torchvision {e}");
        }
        // Gradient reaches the last block's unit and every part of the head (the FPN's lateral conv of the detached map too).
        losses.Values.Aggregate((x, y) => x + y).backward();
        Assert.True(body.named_parameters().First(kv => kv.name == "conv2.weight").parameter.grad!.abs().sum().item<float>() > 0);
        Assert.All(head.named_parameters(), kv => Assert.True(kv.parameter.grad is not null && kv.parameter.grad.abs().sum().item<float>() > 0, kv.name));

        // The detector assembled from the head shares its modules and predicts.
        var detector = head.CreateDetector(body, x => body.call(x), body.Shapes);
        detector.eval();
        var detections = detector.Predict(images);
        var expected = fx["detections"]!.Children().ToList();
        for (int i = 0; i < 2; i++)
            Fixture.AssertClose(Fixture.Tensor(expected[i]["scores"]!), detections[i].Scores, 1e-5, $"image {i} scores");
    }

    [Fact]
    public void AMissingUnitOutputIsNamed()
    {
        using var scope = NewDisposeScope();
        var head = new FasterRcnnMainHead([new FeatureTap(3, 8, 4), new FeatureTap(5, 8, 8)], Tests.Models.TinyFasterRcnnTests.TinyOptions, fpnChannels: 8);
        var target = new DetectionTargets([DetectionTarget.Empty()], [new ImageSize(64, 64)], new ImageSize(64, 64));
        var ex = Assert.Throws<ArgumentException>(() => head.Losses(new Dictionary<int, Tensor> { [5] = zeros(1, 8, 8, 8) }, zeros(1, 8, 8, 8), target));
        Assert.Contains("unit 3", ex.Message);
    }
}
