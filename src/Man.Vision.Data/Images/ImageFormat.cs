namespace Man.Vision.Data.Images;

/// <summary>An encoded image format, as sniffed from the bytes (never from the file name).</summary>
public enum ImageFormat
{
    /// <summary>A format SkiaSharp decodes that has no member here (ico, wbmp, heif, dng...).</summary>
    Other = 0,
    /// <summary>PNG.</summary>
    Png,
    /// <summary>JPEG.</summary>
    Jpeg,
    /// <summary>Windows bitmap.</summary>
    Bmp,
    /// <summary>GIF (the first frame is decoded).</summary>
    Gif,
    /// <summary>WebP.</summary>
    Webp,
}
