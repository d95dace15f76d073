using Man.Vision.Detection.Heads;
using Man.Vision.Detection.Rpn;

namespace Man.Vision.Detection.Models;

/// <summary>Builds Faster R-CNN models from options (torchvision's <c>FasterRCNN</c> constructor defaults).</summary>
public static class FasterRcnn
{
    /// <summary>
    /// A Faster R-CNN on <paramref name="backbone"/> (e.g. a ResNet with FPN): an RPN with one anchor level per backbone
    /// output, RoI heads pooling from <see cref="RoiHeadsOptions.FeatureNames"/>, and the transform.
    /// </summary>
    /// <exception cref="ArgumentException">The anchor levels do not match the backbone outputs, or a pooled map is not produced.</exception>
    public static GeneralizedRcnn Create(FasterRcnnOptions options, DetectionBackbone backbone)
    {
        options.Validate();
        if (options.Rpn.AnchorSizes.Count != backbone.OutputNames.Count)
            throw new ArgumentException($"The RPN has {options.Rpn.AnchorSizes.Count} anchor levels but the backbone gives {backbone.OutputNames.Count} maps ({string.Join(", ", backbone.OutputNames)}).");
        foreach (string name in options.RoiHeads.FeatureNames)
            if (!backbone.OutputNames.Contains(name))
                throw new ArgumentException($"The RoI heads pool from '{name}', which the backbone does not produce ({string.Join(", ", backbone.OutputNames)}).");
        var rpn = new RegionProposalNetwork(backbone.OutChannels, options.Rpn);
        var roiHeads = new RoiHeads(backbone.OutChannels, options.NumClasses, options.RoiHeads);
        return new GeneralizedRcnn(backbone, rpn, roiHeads, new GeneralizedRcnnTransform(options.Transform));
    }
}
