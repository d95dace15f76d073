using Man.Local;
using Man.Vision.Backbones.Norm;
using Man.Vision.Backbones.ResNets;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.FineTuning;

/// <summary>Fine-tuning helpers: freezing the stem and early stages, learning-rate groups for backbone and heads.</summary>
public static class FineTuner
{
    /// <summary>Sets <c>requires_grad</c> of every parameter of <paramref name="module"/>.</summary>
    public static void SetRequiresGrad(nn.Module module, bool requiresGrad)
    {
        ArgumentNullException.ThrowIfNull(module);
        foreach (var p in module.parameters()) p.requires_grad = requiresGrad;
    }

    /// <summary>
    /// The number of leading units (stem = 0) without any trainable parameter — what <see cref="FreezeAt"/> froze. Local
    /// learning folds them into its first block: they can learn nothing and keep no activations for a backward pass.
    /// </summary>
    public static int FrozenUnitPrefix(ResNet model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Enumerable.Range(0, model.Count).TakeWhile(i => !model[i].parameters().Any(p => p.requires_grad)).Count();
    }

    /// <summary>
    /// Freezes the stem and the first stages, detectron2's <c>FREEZE_AT</c>: 0 freezes nothing, 1 the stem,
    /// k ≥ 2 the stem and layer1..layer(k−1). Frozen parameters get <c>requires_grad = false</c>; with
    /// <paramref name="freezeBatchNorm"/> their BatchNorm2d layers also become <see cref="FrozenBatchNorm2d"/> (so
    /// training mode does not update their statistics either). Later stages are left as they are.
    /// </summary>
    /// <returns>The indices of the frozen units (stem = 0), to skip in local learning.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="freezeAt"/> is outside 0..StageCount+1.</exception>
    public static IReadOnlyList<int> FreezeAt(ResNet model, int freezeAt, bool freezeBatchNorm = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (freezeAt < 0 || freezeAt > model.StageCount + 1)
            throw new ArgumentOutOfRangeException(nameof(freezeAt), freezeAt,
                $"freezeAt must be between 0 (nothing) and {model.StageCount + 1} (stem and all {model.StageCount} stages).");
        if (freezeAt == 0) return [];
        SetRequiresGrad(model.Stem, false);
        if (freezeBatchNorm && model.Stem.Bn1 is BatchNorm2d bn)
            model.ReplaceNorm("bn1", FrozenBatchNorm2d.From(bn));
        for (int s = 0; s < freezeAt - 1; s++)
        {
            var stage = model.Stage(s);
            SetRequiresGrad(stage, false);
            if (freezeBatchNorm) BatchNormFreezer.ConvertToFrozen(stage);
        }
        return freezeAt == 1 ? [0] : Enumerable.Range(0, model.StageEndUnit(freezeAt - 2) + 1).ToList();
    }

    /// <summary>Units none of whose parameters require gradients (they need no local block or optimiser).</summary>
    public static IReadOnlyList<int> FrozenUnits(IUnitSequence units)
    {
        ArgumentNullException.ThrowIfNull(units);
        return Enumerable.Range(0, units.Count).Where(i => units[i].parameters().All(p => !p.requires_grad)).ToList();
    }

    /// <summary>
    /// Two groups of trainable parameters: the backbone (everything but <c>fc</c>) at <paramref name="backboneLearningRate"/>
    /// and the classifier <c>fc</c> at <paramref name="headLearningRate"/>. Frozen parameters are left out.
    /// </summary>
    public static IReadOnlyList<ParameterGroup> ParameterGroups(ResNet model, double backboneLearningRate, double headLearningRate) =>
        ParameterGroups(model, name => name.StartsWith("fc.", StringComparison.Ordinal), backboneLearningRate, headLearningRate);

    /// <summary>
    /// Two groups of trainable parameters of any model, split by name: "head" where <paramref name="isHead"/> is true
    /// (e.g. names starting with "roi_heads." or "classifier."), "backbone" otherwise. Empty groups are dropped.
    /// </summary>
    public static IReadOnlyList<ParameterGroup> ParameterGroups(nn.Module model, Func<string, bool> isHead,
                                                                double backboneLearningRate, double headLearningRate)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(isHead);
        if (!(backboneLearningRate >= 0) || !(headLearningRate >= 0))
            throw new ArgumentOutOfRangeException(nameof(backboneLearningRate), "Learning rates must be non-negative numbers.");
        var backbone = new List<Parameter>();
        var head = new List<Parameter>();
        foreach (var (name, p) in model.named_parameters())
        {
            if (!p.requires_grad) continue;
            (isHead(name) ? head : backbone).Add(p);
        }
        var groups = new List<ParameterGroup>();
        if (backbone.Count > 0) groups.Add(new ParameterGroup("backbone", backbone, backboneLearningRate));
        if (head.Count > 0) groups.Add(new ParameterGroup("head", head, headLearningRate));
        return groups;
    }
}
