namespace Man.Vision.Detection.LocalLearning;

/// <summary>A unit output the main head feeds to its FPN (a ResNet stage end: c2..c5).</summary>
/// <param name="UnitIndex">Index of the unit in the backbone's unit sequence.</param>
/// <param name="Channels">Channels of the unit's output.</param>
/// <param name="Stride">Stride of the unit's output relative to the input.</param>
public sealed record FeatureTap(int UnitIndex, long Channels, long Stride);
