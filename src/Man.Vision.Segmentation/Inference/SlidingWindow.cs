namespace Man.Vision.Segmentation.Inference;

/// <summary>Sliding-window inference settings (mmsegmentation's <c>test_cfg=dict(mode='slide', crop_size, stride)</c>).</summary>
/// <param name="CropHeight">Window height.</param>
/// <param name="CropWidth">Window width.</param>
/// <param name="StrideHeight">Vertical step between windows (≤ crop height so windows cover the image).</param>
/// <param name="StrideWidth">Horizontal step between windows (≤ crop width).</param>
public sealed record SlidingWindow(int CropHeight, int CropWidth, int StrideHeight, int StrideWidth)
{
    /// <summary>Validated settings.</summary>
    public int CropHeight { get; } = CropHeight > 0 ? CropHeight : throw new ArgumentOutOfRangeException(nameof(CropHeight), CropHeight, "The crop height must be positive.");

    /// <inheritdoc cref="SlidingWindow(int, int, int, int)"/>
    public int CropWidth { get; } = CropWidth > 0 ? CropWidth : throw new ArgumentOutOfRangeException(nameof(CropWidth), CropWidth, "The crop width must be positive.");

    /// <inheritdoc cref="SlidingWindow(int, int, int, int)"/>
    public int StrideHeight { get; } = StrideHeight > 0 && StrideHeight <= CropHeight ? StrideHeight
        : throw new ArgumentOutOfRangeException(nameof(StrideHeight), StrideHeight, $"The vertical stride must be in [1, crop height = {CropHeight}] so the windows cover the image.");

    /// <inheritdoc cref="SlidingWindow(int, int, int, int)"/>
    public int StrideWidth { get; } = StrideWidth > 0 && StrideWidth <= CropWidth ? StrideWidth
        : throw new ArgumentOutOfRangeException(nameof(StrideWidth), StrideWidth, $"The horizontal stride must be in [1, crop width = {CropWidth}] so the windows cover the image.");

    /// <summary>Square windows of side <paramref name="crop"/> every <paramref name="stride"/> pixels.</summary>
    public static SlidingWindow Square(int crop, int stride) => new(crop, crop, stride, stride);

    /// <summary>
    /// The windows over an image of <paramref name="height"/>×<paramref name="width"/>, as mmsegmentation places them:
    /// grid counts <c>max(size − crop + stride − 1, 0) / stride + 1</c>, each window clipped to the image and shifted
    /// back so it keeps the crop size when the image is large enough.
    /// </summary>
    /// <returns>Windows as (y1, y2, x1, x2), end-exclusive.</returns>
    public IReadOnlyList<(long Y1, long Y2, long X1, long X2)> Windows(long height, long width)
    {
        long rows = Math.Max(height - CropHeight + StrideHeight - 1, 0) / StrideHeight + 1;
        long cols = Math.Max(width - CropWidth + StrideWidth - 1, 0) / StrideWidth + 1;
        var windows = new List<(long, long, long, long)>((int)(rows * cols));
        for (long r = 0; r < rows; r++)
        {
            for (long c = 0; c < cols; c++)
            {
                long y1 = r * StrideHeight, x1 = c * StrideWidth;
                long y2 = Math.Min(y1 + CropHeight, height), x2 = Math.Min(x1 + CropWidth, width);
                y1 = Math.Max(y2 - CropHeight, 0);
                x1 = Math.Max(x2 - CropWidth, 0);
                windows.Add((y1, y2, x1, x2));
            }
        }
        return windows;
    }
}
