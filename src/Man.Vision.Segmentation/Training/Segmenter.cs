using System.Globalization;
using Man.Local;
using Man.Local.Training;
using Man.Vision.Backbones.FineTuning;
using Man.Vision.Backbones.ResNets;
using Man.Vision.Backbones.Weights;
using Man.Vision.Segmentation.LocalLearning;
using Man.Vision.Segmentation.Models;
using Newtonsoft.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Training;

/// <summary>
/// A semantic segmenter ready for the local-learning engine: a dilated ResNet (<see cref="ResNetSegmentationBackbone"/>),
/// the FCN or DeepLabV3 head (optionally with torchvision's auxiliary FCN head on layer3) as the last block's
/// <see cref="SegmentationMainHead"/>, the early blocks' FCN-style auxiliary heads, and the <see cref="LocalLearner{TTarget}"/>.
/// </summary>
/// <remarks>
/// State-dict keys of the learner: <c>model.*</c> (the backbone, torchvision's <c>backbone.*</c> names), <c>head.classifier.*</c>,
/// <c>head.aux_classifier.*</c> and <c>aux.{k}.*</c> (the auxiliary networks of the early blocks).
/// </remarks>
public sealed class Segmenter : IDisposable
{
    private Segmenter(ResNet network, ResNetSegmentationBackbone backbone, SegmentationMainHead head, LocalLearner<Tensor> learner,
        IReadOnlyList<string> classes, SegmentationTrainOptions options, LoadReport? pretrained)
    {
        Network = network;
        Backbone = backbone;
        Head = head;
        Learner = learner;
        Classes = classes;
        Options = options;
        PretrainedReport = pretrained;
    }

    /// <summary>The ResNet (the engine's unit sequence).</summary>
    public ResNet Network { get; }

    /// <summary>The backbone (torchvision names; the module the engine trains and saves as <c>model</c>).</summary>
    public ResNetSegmentationBackbone Backbone { get; }

    /// <summary>The last block's head.</summary>
    public SegmentationMainHead Head { get; }

    /// <summary>The engine.</summary>
    public LocalLearner<Tensor> Learner { get; }

    /// <summary>Class names, in label order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The options the segmenter was built with (architecture, head, output stride, crop, …).</summary>
    public SegmentationTrainOptions Options { get; }

    /// <summary>What loading <see cref="SegmentationTrainOptions.Pretrained"/> did, or null.</summary>
    public LoadReport? PretrainedReport { get; }

    /// <summary>Number of classes.</summary>
    public int NumClasses => Classes.Count;

    /// <summary>
    /// Builds the network (loading pretrained backbone weights and freezing early stages when asked), the split plan, the
    /// heads and the engine. The seed of <paramref name="options"/> fixes every initialisation.
    /// </summary>
    /// <exception cref="ArgumentException">Inconsistent options (the message names the bad one).</exception>
    public static Segmenter Create(SegmentationTrainOptions options, IReadOnlyList<string> classes, Device? device = null)
    {
        if (classes.Count < 2) throw new ArgumentException($"A segmenter needs at least 2 classes (got {classes.Count}).");
        int os = options.EffectiveOutputStride;
        bool[]? dilation = os switch
        {
            8 => [false, true, true],
            16 => [false, false, true],
            32 => null,
            _ => throw new ArgumentException($"--output-stride must be 8, 16 or 32 (got {os})."),
        };
        var resnetOptions = ResNetFactory.Options(options.Arch);
        if (resnetOptions.StageWidths.Length != 4)
            throw new ArgumentException($"{options.Arch} has {resnetOptions.StageWidths.Length} stages; segmentation needs an ImageNet ResNet with four (resnet18 … resnet152, resnext).");
        if (dilation is not null && resnetOptions.Block == BlockKind.Basic)
            throw new ArgumentException(
                $"{options.Arch} has basic blocks, which cannot be dilated (as in torchvision): use --output-stride 32, or a bottleneck backbone (resnet50 and deeper) for output stride {os}.");
        torch.manual_seed(options.Seed);
        var network = new ResNet(resnetOptions with { NumClasses = 0, ReplaceStrideWithDilation = dilation });
        LoadReport? report = null;
        if (options.Pretrained is string path) report = LoadPretrained(network, path);
        // Freeze before wrapping: the backbone registers the ResNet's modules as they are now (FrozenBatchNorm2d included).
        if (options.FreezeAt > 0) FineTuner.FreezeAt(network, options.FreezeAt, freezeBatchNorm: true);
        var backbone = new ResNetSegmentationBackbone(network);
        if (device is not null) backbone.to(device);

        var plan = MakePlan(network, options.Method, options.K, options.Split, options.CropSize);
        var head = SegmentationMainHead.Create(options.Head, classes.Count, backbone.OutChannels, os,
            options.AuxLoss ? backbone.AuxChannels : null, options.AuxLoss ? backbone.AuxUnitIndex : null, ignoreIndex: options.IgnoreIndex);
        var task = new SegmentationLocalTask(head, classes.Count, options.AuxiliaryHiddenChannels, options.IgnoreIndex);
        torch.manual_seed(options.Seed + 1);
        var learner = new LocalLearner<Tensor>(backbone, network, task, plan,
            new LocalLearningOptions { Method = options.Method, EmaMomentum = options.EmaMomentum, InitializeCopiesFromUnit = options.InitializeCopiesFromUnit }, [3, options.CropSize, options.CropSize]);
        if (device is not null) learner.to(device);
        return new Segmenter(network, backbone, head, learner, classes.ToArray(), options with { OutputStride = os }, report);
    }

    /// <summary>Rebuilds a segmenter from a checkpoint's metadata and loads its weights (for evaluation and prediction).</summary>
    /// <exception cref="CheckpointException">Not a segmentation checkpoint, or its tensors do not fit.</exception>
    public static Segmenter Load(string checkpoint, Device? device = null)
    {
        var meta = CheckpointMeta.Read(checkpoint, "segment", "segmentation");
        var classes = JsonConvert.DeserializeObject<string[]>(meta.Require("classes"))!;
        var starts = meta.BlockStarts;
        var options = new SegmentationTrainOptions
        {
            Arch = meta.Require("arch"),
            Head = SegmentationHeadKinds.Parse(meta.Require("head")),
            AuxLoss = meta.RequireBool("aux_loss"),
            OutputStride = meta.RequireInt("output_stride"),
            Method = LocalMethods.Parse(meta.Require("method")),
            K = starts.Count,
            Split = string.Join(",", starts),
            CropSize = meta.RequireInt("crop"),
            IgnoreIndex = meta.RequireLong("ignore_index"),
            FreezeAt = meta.RequireInt("freeze_at"),
            InitializeCopiesFromUnit = meta.Bool("init_copies_from_unit") ?? false,
            AuxiliaryHiddenChannels = meta.Get("aux_hidden_channels") is { Length: > 0 } ? meta.Long("aux_hidden_channels") : null,
        };
        var segmenter = Create(options, classes, device);
        try
        {
            LocalTrainer<Tensor>.LoadWeights(segmenter.Learner, checkpoint);
        }
        catch
        {
            segmenter.Dispose();
            throw;
        }
        return segmenter;
    }

    /// <summary>The metadata stored with checkpoints, from which <see cref="Load"/> rebuilds the segmenter.</summary>
    public Dictionary<string, string> Meta(string? data = null)
    {
        var inv = CultureInfo.InvariantCulture;
        var meta = new Dictionary<string, string>
        {
            ["task"] = "segment",
            ["arch"] = Options.Arch,
            ["head"] = Options.Head.Name(),
            ["aux_loss"] = Options.AuxLoss.ToString(inv),
            ["output_stride"] = Options.EffectiveOutputStride.ToString(inv),
            ["method"] = Learner.Options.Method.Name(),
            ["split_spec"] = Options.Split,
            ["num_classes"] = NumClasses.ToString(inv),
            ["classes"] = JsonConvert.SerializeObject(Classes),
            ["crop"] = Options.CropSize.ToString(inv),
            ["ignore_index"] = Options.IgnoreIndex.ToString(inv),
            ["freeze_at"] = Options.FreezeAt.ToString(inv),
            ["init_copies_from_unit"] = Options.InitializeCopiesFromUnit ? "true" : "false",
            ["aux_hidden_channels"] = Options.AuxiliaryHiddenChannels?.ToString(inv) ?? "",
            // The training loader's settings, so that a saved checkpoint's batch-norm statistics can be recomputed as the
            // run would have (SegmentationRunner.RecomputeBatchNorm, eval segment --precise-bn).
            ["batch_size"] = Options.BatchSize.ToString(inv),
            ["seed"] = Options.Seed.ToString(inv),
            ["min_scale"] = Options.MinScale.ToString("R", inv),
            ["max_scale"] = Options.MaxScale.ToString("R", inv),
            ["jitter"] = Options.Jitter ? "true" : "false",
            ["normalize_mean"] = "[0.485,0.456,0.406]",
            ["normalize_std"] = "[0.229,0.224,0.225]",
        };
        if (data is not null) meta["data"] = data;
        return meta;
    }

    /// <summary>
    /// Main-head logits <c>[N, classes, H, W]</c> at the size of <paramref name="images"/> <c>[N, 3, H, W]</c> (normalised).
    /// No gradient bookkeeping of its own: call under no_grad with the learner in eval mode.
    /// </summary>
    public Tensor Logits(Tensor images)
    {
        using var scope = NewDisposeScope();
        var (_, last) = Learner.RunUnits(images);
        return SegmentationModel.ResizeLogits(Head.Classifier.forward(last), [images.shape[2], images.shape[3]]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The split plan: K = 1 (or e2e) one block; "stages" (K = 4) stem+layer1 | layer2 | layer3 | layer4; "balanced" by the
    /// activation memory of a training step at <paramref name="cropSize"/>² (see <see cref="BalancedCosts"/>); "uniform" by unit
    /// count; or explicit block starts. Frozen leading units (fine-tuning) all join the first block under "balanced" and "uniform".
    /// </summary>
    /// <exception cref="ArgumentException">K does not fit the network or the split.</exception>
    public static SplitPlan MakePlan(ResNet network, LocalMethod method, int k, string split, int cropSize)
    {
        int n = network.Count;
        if (method == LocalMethod.E2E || k == 1) return SplitPlan.Single(n);
        if (k > n) throw new ArgumentException($"K = {k} is larger than the number of units of this network ({n}).");
        string mode = split.Trim().ToLowerInvariant();
        int frozen = FineTuner.FrozenUnitPrefix(network);
        switch (mode)
        {
            case "uniform":
            case "balanced":
                if (k > n - frozen) throw new ArgumentException($"K = {k} is larger than the number of trainable units ({n - frozen}) after freezing {frozen}.");
                SplitPlan rest;
                if (mode == "uniform") rest = SplitPlan.Uniform(k, n - frozen);
                else
                {
                    // The frozen prefix keeps no activations for a backward pass; it is folded into the first block.
                    rest = SplitPlan.Balanced(k, BalancedCosts(network, cropSize)[frozen..]);
                }
                return rest.AfterPrefix(frozen);
            case "stages":
                if (k != 4) throw new ArgumentException($"--split stages makes 4 blocks (stem+layer1 | layer2 | layer3 | layer4); --k is {k}.");
                return new SplitPlan([0, network.StageEndUnit(0) + 1, network.StageEndUnit(1) + 1, network.StageEndUnit(2) + 1], n);
            default:
                var plan = SplitPlan.Parse(split, n);
                return plan.K == k ? plan : throw new ArgumentException($"The split '{split}' has {plan.K} blocks but --k is {k}.");
        }
    }

    /// <summary>
    /// The cost model of the balanced split: per unit, the activation elements it keeps for its backward pass for one sample
    /// of <paramref name="cropSize"/>² (<see cref="ResNet.DescribeUnits"/>).
    /// </summary>
    /// <remarks>
    /// Richer models measured worse. DeepLabV3-ResNet-50, OS 8, 512², batch 4, MAN++ K = 4, peak RSS of a fresh process: this
    /// model's split 0-5 | 6-11 | 12-14 | 15-16 took 3,158 MiB; charging every block end with its auxiliary network (2× the next
    /// unit for the LB and EMA copies, plus the auxiliary head) and the last unit with the ASPP head gave 0-6 | 7-12 | 13 | 14-16
    /// and 3,313 MiB; the stage split 3,737 MiB; e2e 5,485 MiB. (The EMA copy's forward keeps less than a trained unit, and an
    /// auxiliary network's memory is freed before the next block runs.)
    /// </remarks>
    public static double[] BalancedCosts(ResNet network, int cropSize) =>
        network.DescribeUnits(cropSize, cropSize).Select(u => (double)u.ActivationElements).ToArray();

    /// <summary>The names of the units of each block, e.g. "stem..layer1.2", for reports.</summary>
    public IReadOnlyList<string> BlockNames()
    {
        var plan = Learner.Plan;
        return Enumerable.Range(0, plan.K).Select(b => plan.End(b) - plan.Start(b) == 1
            ? Network.UnitName(plan.Start(b))
            : $"{Network.UnitName(plan.Start(b))}..{Network.UnitName(plan.End(b) - 1)}").ToList();
    }

    private static LoadReport LoadPretrained(ResNet network, string path)
    {
        try
        {
            return PretrainedWeights.Load(network, path);
        }
        catch (WeightLoadException) when (!PretrainedWeights.IsManCheckpoint(path) && WeightsInspector.Inspect(path).Tensors.Any(t => t.Name.StartsWith("backbone.", StringComparison.Ordinal)))
        {
            // A segmentation model's weights (torchvision deeplabv3_*/fcn_*): take its backbone.* part.
            return WeightLoader.Load(network, path, WeightLoadOptions.BackboneOnly with { SourcePrefix = "backbone." });
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Learner.Dispose();
        Backbone.Dispose();
        Network.Dispose();
    }
}
