namespace Man.Vision.Data.Segmentation;

/// <summary>A label image as training ids: row-major <c>Height·Width</c> bytes, 0..C−1 or 255 (ignore).</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Ids">The training ids.</param>
public sealed record LabelMap(int Width, int Height, byte[] Ids)
{
    /// <summary>The id at (x, y).</summary>
    public byte this[int x, int y] => Ids[y * Width + x];
}
