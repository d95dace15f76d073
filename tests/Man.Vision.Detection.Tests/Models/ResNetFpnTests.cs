using Man.Vision.Detection.Heads;
using Man.Vision.Detection.LocalLearning;
using Man.Vision.Detection.Models;
using Man.Vision.Detection.Rpn;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Models;

public sealed class ResNetFpnTests
{
    [Fact]
    public void ResNet50FpnHasTorchvisionsKeysShapesAndTrainableParameters()
    {
        using var scope = NewDisposeScope();
        var fx = Fixture.Load("fasterrcnn_resnet50_fpn_keys.json");
        var model = FasterRcnn.CreateResNetFpn(new FasterRcnnOptions());
        var expected = fx.GetProperty("keys").EnumerateArray()
            .ToDictionary(e => e[0].GetString()!, e => e[1].EnumerateArray().Select(x => x.GetInt64()).ToArray());
        var actual = model.state_dict();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (k, shape) in expected) Assert.True(shape.SequenceEqual(actual[k].shape), $"{k}: [{string.Join(", ", actual[k].shape)}]");
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).Order();
        Assert.Equal(fx.GetProperty("trainable").EnumerateArray().Select(e => e.GetString()!).Order(), trainable);
    }

    [Fact]
    public void ResNet18FpnTrainsAndPredictsOnSmallImages()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(3);
        var options = new FasterRcnnOptions
        {
            NumClasses = 2,
            Transform = new TransformOptions { MinSize = [96], MaxSize = 128 },
            Rpn = new RpnOptions { PreNmsTopNTrain = 200, PostNmsTopNTrain = 100, PreNmsTopNTest = 100, PostNmsTopNTest = 50 },
            RoiHeads = new RoiHeadsOptions { BatchSizePerImage = 64, RepresentationSize = 64 },
        };
        var model = FasterRcnn.CreateResNetFpn(options, "resnet18");
        var (images, targets) = SyntheticSquares.Make(2, 96, seed: 4);
        model.train();
        var losses = model.ComputeLosses(images, targets);
        Assert.Equal(["loss_box_reg", "loss_classifier", "loss_objectness", "loss_rpn_box_reg"], losses.Keys.Order());
        Assert.All(losses.Values, l => Assert.True(float.IsFinite(l.item<float>())));
        losses.Values.Aggregate((a, b) => a + b).backward();
        model.eval();
        var detections = model.Predict(images);
        Assert.Equal(2, detections.Count);
        Assert.All(detections, d => Assert.True(d.Count <= 100 && d.Boxes.shape[1] == 4 && d.Scores.shape[0] == d.Count));
    }

    [Fact]
    public void LocalTaskTapsTheResNetStageEnds()
    {
        using var scope = NewDisposeScope();
        var resnet = Man.Vision.Backbones.ResNets.ResNetFactory.Create("resnet18", numClasses: 0);
        var task = DetectionLocalTask.For(resnet, new FasterRcnnOptions { NumClasses = 3 });
        Assert.Equal(resnet.FeatureMaps.Select(m => m.UnitIndex), task.MainHead.ExtraUnitOutputs);
        // resnet18 units: stem, layer1.0-1, layer2.0-1, layer3.0-1, layer4.0-1 → stage ends 2, 4, 6, 8.
        Assert.Equal(new[] { 2, 4, 6, 8 }, task.MainHead.ExtraUnitOutputs);
        var detector = task.Head.CreateDetector(resnet);
        Assert.Contains("backbone.body.layer4.1.conv2.weight", detector.state_dict().Keys);
        Assert.Contains("backbone.fpn.inner_blocks.3.0.weight", detector.state_dict().Keys);
    }
}
