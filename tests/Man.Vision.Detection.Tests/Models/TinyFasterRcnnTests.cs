using Newtonsoft.Json.Linq;
using Man.Vision.Detection.Heads;
using Man.Vision.Detection.Models;
using Man.Vision.Detection.Rpn;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Models;

/// <summary>
/// A tiny Faster R-CNN with the weights of make_fixtures.py's torchvision model: same losses and detections.
/// The samplers take every candidate (batch sizes above the candidate counts), so no random draw is involved.
/// </summary>
public sealed class TinyFasterRcnnTests
{
    internal static FasterRcnnOptions TinyOptions => new()
    {
        NumClasses = 3,
        Transform = new TransformOptions { MinSize = [64], MaxSize = 100 },
        Rpn = new RpnOptions
        {
            AnchorSizes = [[16], [32], [64]],
            PreNmsTopNTrain = 300, PreNmsTopNTest = 200, PostNmsTopNTrain = 150, PostNmsTopNTest = 100,
            BatchSizePerImage = 100000, PositiveFraction = 0.5,
        },
        RoiHeads = new RoiHeadsOptions
        {
            FeatureNames = ["0", "1"], RepresentationSize = 32, BatchSizePerImage = 100000, PositiveFraction = 0.5,
            ScoreThresh = 0.2, DetectionsPerImage = 20,
        },
    };

    private static (GeneralizedRcnn Model, JToken Fixture, List<Tensor> Images, List<DetectionTarget> Targets) Load()
    {
        var fx = Fixture.Load("tiny_faster_rcnn.json");
        var model = FasterRcnn.Create(TinyOptions, TinyBody.WithFpn());
        var state = fx["state_dict"]!.Children<JProperty>().ToDictionary(p => p.Name, p => Fixture.Tensor(p.Value));
        var (missing, unexpected) = model.load_state_dict(state, strict: false);
        Assert.Empty(missing);
        Assert.Empty(unexpected);
        Assert.Equal(state.Keys.Order(), model.state_dict().Keys.Order());
        var images = fx["images"]!.Children().Select(Fixture.Tensor).ToList();
        var targets = fx["targets"]!.Children()
            .Select(t => new DetectionTarget(Fixture.Tensor(t["boxes"]!), tensor(Fixture.Longs(t["labels"]!)))).ToList();
        return (model, fx, images, targets);
    }

    [Fact]
    public void TrainingLossesEqualTorchvision()
    {
        using var scope = NewDisposeScope();
        var (model, fx, images, targets) = Load();
        model.train();
        var losses = model.ComputeLosses(images, targets);
        var expected = fx["losses"]!;
        Assert.Equal(4, losses.Count);
        foreach (var p in expected.Children<JProperty>())
        {
            double e = p.Value.Value<double>(), a = losses[p.Name].item<float>();
            Assert.True(Math.Abs(a - e) <= 1e-5 * Math.Max(1, Math.Abs(e)), $"{p.Name}: {a} vs torchvision {e}");
        }
    }

    [Fact]
    public void EmptyGroundTruthGivesZeroBoxLossesAndTorchvisionsClassLosses()
    {
        using var scope = NewDisposeScope();
        var (model, fx, images, _) = Load();
        model.train();
        var losses = model.ComputeLosses(images, [DetectionTarget.Empty(), DetectionTarget.Empty()]);
        Assert.Equal(0f, losses["loss_box_reg"].item<float>());
        Assert.Equal(0f, losses["loss_rpn_box_reg"].item<float>());
        var expected = fx["empty_losses"]!;
        foreach (string name in new[] { "loss_classifier", "loss_objectness" })
        {
            double e = expected[name]!.Value<double>(), a = losses[name].item<float>();
            Assert.True(Math.Abs(a - e) <= 1e-5 * Math.Max(1, Math.Abs(e)), $"{name}: {a} vs torchvision {e}");
        }
        // The gradient flows into the classifiers only through background labels: still finite and non-zero.
        (losses["loss_classifier"] + losses["loss_objectness"]).backward();
        Assert.Contains(model.parameters(), p => p.grad is not null && p.grad.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void DetectionsEqualTorchvision()
    {
        using var scope = NewDisposeScope();
        var (model, fx, images, _) = Load();
        model.eval();
        var detections = model.Predict(images);
        var expected = fx["detections"]!.Children().ToList();
        Assert.Equal(expected.Count, detections.Count);
        for (int i = 0; i < detections.Count; i++)
        {
            Assert.Equal(Fixture.Longs(expected[i]["labels"]!), detections[i].Labels.data<long>().ToArray());
            Fixture.AssertClose(Fixture.Tensor(expected[i]["scores"]!), detections[i].Scores, 1e-5, $"image {i} scores");
            Fixture.AssertClose(Fixture.Tensor(expected[i]["boxes"]!), detections[i].Boxes, 1e-3, $"image {i} boxes");
        }
    }

    [Fact]
    public void AnImageWithoutProposalsGetsNoDetectionsAndTheOtherImageKeepsItsOwn()
    {
        using var scope = NewDisposeScope();
        var (model, _, images, _) = Load();
        model.eval();
        using var noGrad = no_grad();
        var (batch, _) = model.Transform.Apply(images, null, training: false);
        var features = model.Backbone.call(batch.Tensors);
        var (proposals, _) = model.Rpn.Forward(batch, features.Values.ToList(), null);
        var both = model.RoiHeads.Predict(features, proposals, batch.ImageSizes);
        var emptyFirst = model.RoiHeads.Predict(features, [zeros(0, 4), proposals[1]], batch.ImageSizes);
        Assert.Equal(0, emptyFirst[0].Boxes.shape[0]);
        Assert.Equal([0L, 4L], emptyFirst[0].Boxes.shape);
        Assert.True(both[1].Scores.shape[0] > 0);
        Assert.Equal(both[1].Scores.data<float>().ToArray(), emptyFirst[1].Scores.data<float>().ToArray());
        var none = model.RoiHeads.Predict(features, [zeros(0, 4), zeros(0, 4)], batch.ImageSizes);
        Assert.All(none, d => Assert.Equal(0, d.Labels.shape[0]));
    }

    [Fact]
    public void DegenerateTargetBoxesAreRejectedWithTheBox()
    {
        using var scope = NewDisposeScope();
        var (model, _, images, _) = Load();
        model.train();
        var bad = new DetectionTarget(tensor(new float[] { 10, 10, 10, 30 }, [1, 4]), tensor(new long[] { 1 }));
        var ex = Assert.Throws<ArgumentException>(() => model.ComputeLosses(images, [bad, DetectionTarget.Empty()]));
        Assert.Contains("positive height and width", ex.Message);
        Assert.Contains("target 0", ex.Message);
        var badLabel = new DetectionTarget(tensor(new float[] { 10, 10, 20, 30 }, [1, 4]), tensor(new long[] { 3 }));
        ex = Assert.Throws<ArgumentException>(() => model.ComputeLosses(images, [DetectionTarget.Empty(), badLabel]));
        Assert.Contains("Target 1 has labels in [3, 3]; object classes are 1..2", ex.Message);
        var nan = new DetectionTarget(tensor(new float[] { 10, 10, float.NaN, 30 }, [1, 4]), tensor(new long[] { 1 }));
        ex = Assert.Throws<ArgumentException>(() => model.ComputeLosses(images, [nan, DetectionTarget.Empty()]));
        Assert.Contains("NaN", ex.Message);
    }
}
