namespace Man.Vision.Backbones.Weights;

/// <summary>A weights file that cannot be read: the message names the file, what was found and what to do.</summary>
public sealed class WeightsFileException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/>.</summary>
    public WeightsFileException(string path, string message, Exception? inner = null)
        : base($"Weights file '{path}': {message}", inner)
    {
        FilePath = path;
    }

    /// <summary>The file that could not be read.</summary>
    public string FilePath { get; }
}
