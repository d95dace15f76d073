namespace Man.Vision.Data.Images;

/// <summary>The colour model an image was stored with, before its conversion to RGB.</summary>
public enum ImageColorModel
{
    /// <summary>Three colour channels (also CMYK JPEG, which the decoder converts).</summary>
    Rgb = 0,
    /// <summary>One grey channel, replicated to R = G = B.</summary>
    Gray,
    /// <summary>Palette indices (PNG colour type 3), looked up to RGB; the indices themselves are not kept.</summary>
    Palette,
}
