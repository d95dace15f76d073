using System.Globalization;
using Man.Local;
using Man.Local.Training;
using Man.Vision.Backbones.FineTuning;
using Man.Vision.Backbones.Norm;
using Man.Vision.Backbones.ResNets;
using Man.Vision.Backbones.Weights;
using Man.Vision.Detection.LocalLearning;
using Man.Vision.Detection.Models;
using Newtonsoft.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Training;

/// <summary>
/// A ResNet-FPN Faster R-CNN ready for the local-learning engine: the ResNet (its units are the engine's units), the
/// detection task (FPN, RPN and RoI heads as the main head on the stage ends, dense auxiliary heads for early blocks),
/// the engine, and a <see cref="GeneralizedRcnn"/> sharing all of them for inference.
/// </summary>
public sealed class DetectionModel : IDisposable
{
    private DetectionModel(DetectionModelConfig config, ResNet network, DetectionLocalTask task, LocalLearner<DetectionTargets> learner)
    {
        Config = config;
        Network = network;
        Task = task;
        Learner = learner;
        Detector = task.Head.CreateDetector(network);
    }

    /// <summary>What the model was built from (stored in checkpoints).</summary>
    public DetectionModelConfig Config { get; }

    /// <summary>The backbone (torchvision names, no classifier).</summary>
    public ResNet Network { get; }

    /// <summary>The detection task.</summary>
    public DetectionLocalTask Task { get; }

    /// <summary>The engine over the backbone's units.</summary>
    public LocalLearner<DetectionTargets> Learner { get; }

    /// <summary>The detector for inference; shares every module with <see cref="Learner"/>.</summary>
    public GeneralizedRcnn Detector { get; }

    /// <summary>Object class names in label order (label 1 is the first; 0 is the background).</summary>
    public IReadOnlyList<string> Classes => Config.Classes;

    /// <summary>
    /// Builds the model. The seed fixes every initialisation. <paramref name="pretrained"/> (backbone weights) is loaded
    /// before freezing; its report is returned through <see cref="PretrainedReport"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range or the split does not fit the backbone.</exception>
    public static DetectionModel Create(DetectionModelConfig config, long seed, string? pretrained = null, Device? device = null)
    {
        config.Validate();
        torch.manual_seed(seed);
        var network = FasterRcnn.CreateResNetBody(config.Backbone, config.FrozenBatchNorm ? NormKind.FrozenBatchNorm : NormKind.BatchNorm, config.BodyStages);
        LoadReport? report = null;
        // A body that ends before layer4 leaves the later stages of the pretrained network unused, as torchvision's
        // IntermediateLayerGetter drops them after loading: skipped, not unexpected.
        if (pretrained is not null)
            report = PretrainedWeights.Load(network, pretrained, unusedPrefixes: [.. Enumerable.Range(config.BodyStages + 1, 4 - config.BodyStages).Select(s => $"layer{s}.")]);
        FineTuner.FreezeAt(network, 5 - config.TrainableLayers);
        if (device is not null) network.to(device);
        var plan = MakePlan(network, config);
        var options = config.DetectorOptions();
        var task = DetectionLocalTask.For(network, options, config.AuxHeadOptions(), returnedLayers: config.FpnLayers);
        torch.manual_seed(seed + 1);
        var learner = new LocalLearner<DetectionTargets>(network, network, task, plan,
            new LocalLearningOptions { Method = config.Method, EmaMomentum = config.EmaMomentum, InitializeCopiesFromUnit = config.InitCopiesFromUnit }, config.ProbeShape);
        if (device is not null) learner.to(device);
        return new DetectionModel(config, network, task, learner) { PretrainedReport = report };
    }

    /// <summary>The report of the pretrained weights loaded by <see cref="Create"/>, or null.</summary>
    public LoadReport? PretrainedReport { get; private init; }

    /// <summary>Rebuilds a model from a checkpoint's metadata and loads its weights (for evaluation and prediction).</summary>
    /// <exception cref="CheckpointException">The file is not a detection checkpoint or does not fit.</exception>
    public static DetectionModel Load(string checkpoint, Device? device = null)
    {
        var config = DetectionModelConfig.FromCheckpoint(checkpoint);
        var model = Create(config, 0, device: device);
        LocalTrainer<DetectionTargets>.LoadWeights(model.Learner, checkpoint);
        return model;
    }

    /// <summary>
    /// The split plan: e2e is one block; "stages" puts block boundaries at the starts of the last K−1 stages
    /// (K = 4: stem+layer1 | layer2 | layer3 | layer4), "balanced" minimises the largest block's activation memory at
    /// the input size, "uniform" balances unit counts (both over the trainable units: a frozen prefix joins the first
    /// block), and "0,4,8,14" gives the block starts.
    /// </summary>
    public static SplitPlan MakePlan(ResNet network, DetectionModelConfig config)
    {
        int n = network.Count;
        int k = config.K;
        if (config.Method == LocalMethod.E2E || k == 1) return SplitPlan.Single(n);
        if (k > n) throw new ArgumentException($"K = {k} is larger than the number of units of {config.Backbone} ({n}).");
        string split = config.Split.Trim().ToLowerInvariant();
        switch (split)
        {
            case "stages":
            {
                if (k > network.StageCount)
                    throw new ArgumentException($"The 'stages' split has at most {network.StageCount} blocks (got K = {k}); use --split balanced or explicit block starts.");
                var stageStarts = Enumerable.Range(1, network.StageCount - 1).Select(s => network.StageEndUnit(s - 1) + 1).ToArray();
                return new SplitPlan([0, .. stageStarts[^(k - 1)..]], n);
            }
            case "uniform":
            case "balanced":
            {
                // Frozen leading units (--trainable-layers) can learn nothing locally and keep no activations for a
                // backward pass: they are folded into the first block, and the K blocks are planned over the rest.
                int frozen = FineTuner.FrozenUnitPrefix(network);
                if (k > n - frozen)
                    throw new ArgumentException($"K = {k} is larger than the number of trainable units of {config.Backbone} ({n - frozen} after {frozen} frozen ones).");
                SplitPlan rest;
                if (split == "uniform") rest = SplitPlan.Uniform(k, n - frozen);
                else
                {
                    var units = network.DescribeUnits(config.MinSize, config.ProbeShape[2]);
                    var costs = units.Select(u => (double)u.ActivationElements).ToArray()[frozen..];
                    var boundary = config.Method is LocalMethod.Man or LocalMethod.ManPlusPlus ? costs.Select(c => 2 * c).ToArray() : null;
                    rest = SplitPlan.Balanced(k, costs, boundary);
                }
                return rest.AfterPrefix(frozen);
            }
            default:
            {
                var plan = SplitPlan.Parse(config.Split, n);
                return plan.K == k ? plan : throw new ArgumentException($"The split '{config.Split}' has {plan.K} blocks but --k is {k}.");
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Detector.Dispose();
        Learner.Dispose();
        Network.Dispose();
    }
}
