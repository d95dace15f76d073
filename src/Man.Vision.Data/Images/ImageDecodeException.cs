using Man.Vision.Data.Diagnostics;

namespace Man.Vision.Data.Images;

/// <summary>
/// An image file that cannot be decoded: missing, empty, not an image, truncated or corrupt. The message
/// names the file and the problem; <see cref="BadInputException.Kind"/> is one of the constants below.
/// </summary>
public sealed class ImageDecodeException : BadInputException
{
    /// <summary>The file does not exist.</summary>
    public const string MissingKind = "missing-image";
    /// <summary>The file is empty or its bytes are no image format the decoder knows.</summary>
    public const string NotAnImageKind = "not-an-image";
    /// <summary>The image data ends before the last pixel row.</summary>
    public const string TruncatedKind = "truncated-image";
    /// <summary>The image data is invalid (corrupt header or stream).</summary>
    public const string CorruptKind = "corrupt-image";

    /// <summary>Creates the exception.</summary>
    public ImageDecodeException(string kind, string file, string problem, Exception? inner = null)
        : base(kind, file, problem, inner) { }
}
