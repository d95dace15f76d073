using Man.Vision.Data.Records;

namespace Man.Vision.Data.DetectionTransforms;

/// <summary>A transform of a detection sample that keeps image, boxes and masks consistent.</summary>
public interface IDetectionTransform
{
    /// <summary>Returns the transformed sample; <paramref name="random"/> is the sample's private generator.</summary>
    /// <remarks>Called inside the caller's dispose scope: new tensors may be left to it.</remarks>
    DetectionSample Apply(DetectionSample sample, Random random);
}

/// <summary>A transform of a semantic segmentation sample that keeps image and label consistent.</summary>
public interface ISegmentationTransform
{
    /// <summary>Returns the transformed sample; <paramref name="random"/> is the sample's private generator.</summary>
    SegmentationSample Apply(SegmentationSample sample, Random random);
}
