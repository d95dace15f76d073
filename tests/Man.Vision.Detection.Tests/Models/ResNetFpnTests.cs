using Newtonsoft.Json.Linq;
using Man.Vision.Detection.Heads;
using Man.Vision.Detection.LocalLearning;
using Man.Vision.Detection.Models;
using Man.Vision.Detection.Rpn;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Models;

public sealed class ResNetFpnTests
{
    /// <summary>The model's state-dict keys and shapes and its trainable parameters are those of a torchvision fixture.</summary>
    private static void AssertTorchvisionLayout(GeneralizedRcnn model, JToken fx)
    {
        var expected = fx["keys"]!.Children()
            .ToDictionary(e => e[0]!.Value<string>()!, e => e[1]!.Children().Select(x => x.Value<long>()).ToArray());
        var actual = model.state_dict();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (k, shape) in expected) Assert.True(shape.SequenceEqual(actual[k].shape), $"{k}: [{string.Join(", ", actual[k].shape)}]");
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).Order();
        Assert.Equal(fx["trainable"]!.Children().Select(e => e.Value<string>()!).Order(), trainable);
    }

    [Fact]
    public void ResNet50FpnHasTorchvisionsKeysShapesAndTrainableParameters()
    {
        using var scope = NewDisposeScope();
        var fx = Fixture.Load("fasterrcnn_resnet50_fpn_keys.json");
        var model = FasterRcnn.CreateResNetFpn(new FasterRcnnOptions());
        AssertTorchvisionLayout(model, fx);
    }

    [Fact]
    public void ReturnedLayersEndingBeforeLayer4BuildNoLayer4AsTorchvision()
    {
        using var scope = NewDisposeScope();
        // torchvision: _resnet_fpn_extractor(resnet18(norm_layer=FrozenBatchNorm2d), 3, returned_layers=[2, 3]) in a
        // FasterRCNN with 3 anchor levels and RoIAlign over "0", "1".
        var fx = Fixture.Load("fasterrcnn_resnet18_fpn_c3c4_keys.json");
        var options = new FasterRcnnOptions
        {
            NumClasses = 3,
            Rpn = new RpnOptions { AnchorSizes = [[32], [64], [128]] },
            RoiHeads = new RoiHeadsOptions { FeatureNames = ["0", "1"] },
        };
        var model = FasterRcnn.CreateResNetFpn(options, "resnet18", returnedLayers: [2, 3]);
        AssertTorchvisionLayout(model, fx);
        model.eval();
        using (no_grad())
        {
            var maps = model.Backbone.forward(rand(1, 3, 64, 96));
            Assert.Equal(fx["maps"]!.Children().Select(e => e[0]!.Value<string>()!), maps.Keys);
            Assert.Equal(fx["maps"]!.Children().Select(e => e[1]!.Children().Select(x => x.Value<long>()).ToArray()), maps.Values.Select(m => m.shape));
        }
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

    [Fact]
    public void ReturnedLayersBuildTheFpnOverThoseStagesWithTorchvisionsKeys()
    {
        using var scope = NewDisposeScope();
        // torchvision: resnet_fpn_backbone("resnet18", returned_layers=[2, 3, 4]) → in_channels_list [128, 256, 512], maps "0".."2" + "pool".
        var options = new FasterRcnnOptions
        {
            NumClasses = 3,
            Rpn = new RpnOptions { AnchorSizes = [[32], [64], [128], [256]] },
            RoiHeads = new RoiHeadsOptions { FeatureNames = ["0", "1", "2"] },
        };
        var model = FasterRcnn.CreateResNetFpn(options, "resnet18", returnedLayers: [2, 3, 4]);
        Assert.Equal(["0", "1", "2", "pool"], model.Backbone.OutputNames);
        var state = model.state_dict();
        Assert.Equal([256L, 128, 1, 1], state["backbone.fpn.inner_blocks.0.0.weight"].shape);
        Assert.Equal([256L, 512, 1, 1], state["backbone.fpn.inner_blocks.2.0.weight"].shape);
        Assert.DoesNotContain("backbone.fpn.inner_blocks.3.0.weight", state.Keys);
        Assert.Contains("backbone.body.layer1.0.conv1.weight", state.Keys);
        model.eval();
        using (no_grad())
        {
            var maps = model.Backbone.forward(zeros(1, 3, 64, 64));
            Assert.Equal([[1L, 256, 8, 8], [1, 256, 4, 4], [1, 256, 2, 2], [1, 256, 1, 1]], maps.Values.Select(m => m.shape));
        }

        // torchvision's default anchors have five levels: they do not fit four maps.
        var e = Assert.Throws<ArgumentException>(() => FasterRcnn.CreateResNetFpn(new FasterRcnnOptions(), "resnet18", returnedLayers: [2, 3, 4]));
        Assert.Contains("5 anchor levels", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => FasterRcnn.CreateResNetFpn(options, "resnet18", returnedLayers: [0, 4]));

        var resnet = Man.Vision.Backbones.ResNets.ResNetFactory.Create("resnet18", numClasses: 0);
        var task = DetectionLocalTask.For(resnet, options, returnedLayers: [2, 3, 4]);
        Assert.Equal([4, 6, 8], task.MainHead.ExtraUnitOutputs);
        Assert.Throws<ArgumentException>(() => DetectionLocalTask.For(resnet, options, returnedLayers: [2, 3, 5]));
    }
}
