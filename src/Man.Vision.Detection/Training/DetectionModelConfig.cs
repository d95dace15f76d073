using System.Globalization;
using Man.Local;
using Man.Local.Training;
using Man.Vision.Detection.LocalLearning;
using Man.Vision.Detection.Heads;
using Man.Vision.Detection.Models;
using Man.Vision.Detection.Rpn;
using Newtonsoft.Json;

namespace Man.Vision.Detection.Training;

/// <summary>What a <see cref="DetectionModel"/> is built from; stored as checkpoint metadata.</summary>
/// <param name="Backbone">ResNet architecture name.</param>
/// <param name="Method">Learning method.</param>
/// <param name="K">Number of blocks.</param>
/// <param name="Split">Split rule ("stages", "balanced", "uniform" or block starts).</param>
/// <param name="Classes">Object class names in label order.</param>
/// <param name="CategoryIds">The data set's category id of each class (COCO ids; 1..C for VOC and synthetic data).</param>
/// <param name="MinSize">Shorter side after resizing.</param>
/// <param name="MaxSize">Cap of the longer side.</param>
/// <param name="TrainableLayers">Trainable backbone stages (0..5).</param>
/// <param name="FrozenBatchNorm">Frozen batch norm in the backbone (torchvision's choice with pretrained weights).</param>
/// <param name="EmaMomentum">EMA momentum of MAN/MAN++.</param>
/// <param name="RoiSamplesPerImage">RoIs sampled per image for the box head's training losses (torchvision 512).</param>
/// <param name="RpnPostNmsTrain">Proposals kept per image after the RPN's NMS in training (torchvision 2000).</param>
/// <param name="RpnPostNmsTest">Proposals kept per image in inference (torchvision 1000); the box head runs on all of them.</param>
/// <param name="AuxHead">Auxiliary head of early blocks: "dense" (RetinaNet-style) or "rcnn" (one-level Faster R-CNN).</param>
/// <param name="AuxMinStride">The dense head pools finer block features to this stride.</param>
/// <param name="InitCopiesFromUnit">MAN/MAN++: LB and EMA start from the weights of the unit they copy (pretrained ones when given).</param>
/// <param name="ReturnedLayers">
/// The ResNet stages feeding the FPN (torchvision's <c>returned_layers</c>; null for [1, 2, 3, 4], c2..c5). [2, 3, 4] builds
/// the FPN over c3..c5 as RetinaNet does; the anchors then start at 32 px on the finest level (see <see cref="AnchorSizes"/>).
/// The backbone ends with the last returned stage (<see cref="BodyStages"/>).
/// </param>
public sealed record DetectionModelConfig(string Backbone, LocalMethod Method, int K, string Split, IReadOnlyList<string> Classes,
    IReadOnlyList<int> CategoryIds, int MinSize, int MaxSize, int TrainableLayers, bool FrozenBatchNorm, double EmaMomentum = 0.995,
    int RoiSamplesPerImage = 512, int RpnPostNmsTrain = 2000, int RpnPostNmsTest = 1000, string AuxHead = "dense", int AuxMinStride = 16,
    bool InitCopiesFromUnit = false, IReadOnlyList<int>? ReturnedLayers = null)
{
    /// <summary>torchvision's default: every stage, c2..c5.</summary>
    public static readonly IReadOnlyList<int> AllLayers = [1, 2, 3, 4];

    /// <summary>The stages feeding the FPN (<see cref="ReturnedLayers"/> or <see cref="AllLayers"/>).</summary>
    public IReadOnlyList<int> FpnLayers => ReturnedLayers ?? AllLayers;

    /// <summary>The ResNet stages the backbone keeps: up to the last returned one (4 by default).</summary>
    public int BodyStages => FpnLayers[^1];

    /// <summary>
    /// One anchor size per FPN level (the returned stages plus "pool"), doubling from 32 px on the finest level:
    /// torchvision's 32, 64, 128, 256, 512 for c2..c5; 32, 64, 128, 256 for c3..c5 (4 × stride on P3, as RetinaNet).
    /// </summary>
    public IReadOnlyList<IReadOnlyList<double>> AnchorSizes =>
        Enumerable.Range(0, FpnLayers.Count + 1).Select(i => (IReadOnlyList<double>)[32.0 * (1 << i)]).ToArray();

    /// <summary>
    /// Checks a list of returned stages: increasing, within 1..4. The backbone ends with the last of them, as torchvision's
    /// <c>IntermediateLayerGetter</c> drops the stages after the last returned one ([2, 3] builds no layer4).
    /// </summary>
    /// <exception cref="ArgumentException">The list is empty, out of range or not increasing.</exception>
    public static IReadOnlyList<int> CheckReturnedLayers(IReadOnlyList<int> layers)
    {
        string text = string.Join(",", layers);
        if (layers.Count == 0 || layers.Any(l => l is < 1 or > 4))
            throw new ArgumentException($"Returned layers [{text}] must name ResNet stages 1..4 (layer1..layer4), e.g. 1,2,3,4 (c2..c5) or 2,3,4 (c3..c5).");
        for (int i = 1; i < layers.Count; i++)
            if (layers[i] <= layers[i - 1]) throw new ArgumentException($"Returned layers [{text}] must increase.");
        return layers;
    }

    /// <summary>Parses "2,3,4" into returned stages and checks them.</summary>
    /// <exception cref="ArgumentException">Not a comma-separated list of stages, or see <see cref="CheckReturnedLayers"/>.</exception>
    public static IReadOnlyList<int> ParseReturnedLayers(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var layers = new List<int>();
        foreach (string p in parts)
            layers.Add(int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
                : throw new ArgumentException($"Returned layers '{text}': '{p}' is not a stage number (give e.g. 2,3,4)."));
        return CheckReturnedLayers(layers);
    }

    /// <summary>The checkpoint metadata key of the task.</summary>
    public const string TaskName = "detect";

    /// <summary>The sample shape the engine probes unit shapes with: [3, MinSize, min(MaxSize, 4/3·MinSize)] rounded up to 32.</summary>
    public long[] ProbeShape => [3, RoundUp(MinSize), RoundUp(Math.Min(MaxSize, (int)Math.Round(MinSize * 4 / 3.0)))];

    /// <summary>Detector options: torchvision's defaults with this number of classes and input size.</summary>
    public FasterRcnnOptions DetectorOptions() => new FasterRcnnOptions
    {
        NumClasses = Classes.Count + 1,
        Transform = new TransformOptions { MinSize = [MinSize], MaxSize = MaxSize },
        Rpn = new RpnOptions { AnchorSizes = AnchorSizes, PostNmsTopNTrain = RpnPostNmsTrain, PostNmsTopNTest = RpnPostNmsTest },
        RoiHeads = new RoiHeadsOptions
        {
            FeatureNames = Enumerable.Range(0, FpnLayers.Count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray(),
            BatchSizePerImage = RoiSamplesPerImage,
        },
    }.Validate();

    /// <summary>The auxiliary head options of early blocks.</summary>
    public AuxHeadOptions AuxHeadOptions() => LocalLearning.AuxHeadOptions.Parse(AuxHead, AuxMinStride);

    /// <summary>Checks the values.</summary>
    public DetectionModelConfig Validate()
    {
        if (Classes.Count < 1) throw new ArgumentException("A detector needs at least one object class.");
        if (CategoryIds.Count != Classes.Count) throw new ArgumentException($"{Classes.Count} classes but {CategoryIds.Count} category ids.");
        if (TrainableLayers is < 0 or > 5) throw new ArgumentException($"Trainable layers must lie in 0..5 (got {TrainableLayers}).");
        if (RoiSamplesPerImage < 1 || RpnPostNmsTrain < 1 || RpnPostNmsTest < 1)
            throw new ArgumentException($"RoI samples ({RoiSamplesPerImage}) and proposals kept ({RpnPostNmsTrain}/{RpnPostNmsTest}) must be positive.");
        if (AuxMinStride < 1) throw new ArgumentException($"The auxiliary head's minimum stride must be positive (got {AuxMinStride}).");
        AuxHeadOptions();
        CheckReturnedLayers(FpnLayers);
        if (MinSize < 32 || MaxSize < MinSize) throw new ArgumentException($"Input size: min {MinSize} must be ≥ 32 and ≤ max {MaxSize}.");
        return this;
    }

    /// <summary>The metadata stored in checkpoints.</summary>
    public Dictionary<string, string> ToMeta()
    {
        var inv = CultureInfo.InvariantCulture;
        return new Dictionary<string, string>
        {
            ["task"] = TaskName,
            ["backbone"] = Backbone,
            ["method"] = Method.Name(),
            ["k"] = K.ToString(inv),
            ["split_rule"] = Split,
            ["classes"] = JsonConvert.SerializeObject(Classes),
            ["category_ids"] = JsonConvert.SerializeObject(CategoryIds),
            ["min_size"] = MinSize.ToString(inv),
            ["max_size"] = MaxSize.ToString(inv),
            ["trainable_layers"] = TrainableLayers.ToString(inv),
            ["frozen_batch_norm"] = FrozenBatchNorm ? "true" : "false",
            ["ema_momentum"] = EmaMomentum.ToString("R", inv),
            ["roi_samples_per_image"] = RoiSamplesPerImage.ToString(inv),
            ["rpn_post_nms_train"] = RpnPostNmsTrain.ToString(inv),
            ["rpn_post_nms_test"] = RpnPostNmsTest.ToString(inv),
            ["aux_head"] = AuxHead,
            ["aux_min_stride"] = AuxMinStride.ToString(inv),
            ["init_copies_from_unit"] = InitCopiesFromUnit ? "true" : "false",
            ["returned_layers"] = string.Join(",", FpnLayers),
        };
    }

    /// <summary>Reads the configuration from a checkpoint's metadata; the split is the checkpoint's explicit block starts.</summary>
    /// <exception cref="CheckpointException">Not a detection checkpoint, or a field is missing or malformed.</exception>
    public static DetectionModelConfig FromCheckpoint(string checkpoint) => FromCheckpoint(ReadMeta(checkpoint));

    /// <summary>Reads a detection checkpoint's header (<see cref="FromCheckpoint(CheckpointMeta)"/> and the runner's other fields).</summary>
    /// <exception cref="CheckpointException">Missing or damaged file, or not a detection checkpoint.</exception>
    public static CheckpointMeta ReadMeta(string checkpoint) => CheckpointMeta.Read(checkpoint, TaskName, "detection");

    /// <summary>The configuration a detection checkpoint's header holds.</summary>
    /// <exception cref="CheckpointException">A field is missing or malformed.</exception>
    public static DetectionModelConfig FromCheckpoint(CheckpointMeta meta)
    {
        try
        {
            var starts = meta.BlockStarts;
            return new DetectionModelConfig(meta.Require("backbone"), LocalMethods.Parse(meta.Require("method")), starts.Count, string.Join(",", starts),
                JsonConvert.DeserializeObject<string[]>(meta.Require("classes"))!, JsonConvert.DeserializeObject<int[]>(meta.Require("category_ids"))!,
                meta.RequireInt("min_size"), meta.RequireInt("max_size"), meta.RequireInt("trainable_layers"),
                meta.RequireBool("frozen_batch_norm"), meta.RequireDouble("ema_momentum"),
                meta.RequireInt("roi_samples_per_image"), meta.RequireInt("rpn_post_nms_train"), meta.RequireInt("rpn_post_nms_test"),
                // Checkpoints written before the R-CNN auxiliary head existed used the dense head at stride 16.
                meta.Get("aux_head") ?? "dense",
                meta.Int("aux_min_stride") ?? 16,
                meta.Bool("init_copies_from_unit") ?? false,
                // Checkpoints written before the option existed used c2..c5.
                // (c2..c5 reads back as null, the default, so configs compare equal.)
                meta.Get("returned_layers") is string layers && ParseReturnedLayers(layers) is var parsed && !parsed.SequenceEqual(AllLayers) ? parsed : null).Validate();
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException or NullReferenceException)
        {
            throw new CheckpointException(meta.Path, "its detection metadata is malformed: " + e.Message, e);
        }
    }

    private static long RoundUp(int v) => (v + 31) / 32 * 32;
}
