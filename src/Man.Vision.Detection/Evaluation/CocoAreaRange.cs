namespace Man.Vision.Detection.Evaluation;

/// <summary>
/// An object-size range of COCO evaluation: an object is inside when <c>Min ≤ area ≤ Max</c> (both bounds inclusive,
/// as in pycocotools).
/// </summary>
/// <param name="Label">The name used by the summary (<c>all</c>, <c>small</c>, <c>medium</c>, <c>large</c>).</param>
/// <param name="Min">Smallest area inside the range, in square pixels.</param>
/// <param name="Max">Largest area inside the range, in square pixels.</param>
public readonly record struct CocoAreaRange(string Label, double Min, double Max)
{
    /// <summary>True when <paramref name="area"/> lies outside <c>[Min, Max]</c>.</summary>
    public bool Excludes(double area) => area < Min || area > Max;
}
