namespace Man.Vision.Detection.Fpn;

/// <summary>The shape of a named feature map of a backbone body (detectron2's <c>ShapeSpec</c>).</summary>
/// <param name="Name">Name of the map in the body's output (e.g. "c2").</param>
/// <param name="Channels">Channels.</param>
/// <param name="Stride">Stride relative to the input image.</param>
public sealed record FeatureShape(string Name, long Channels, long Stride);
