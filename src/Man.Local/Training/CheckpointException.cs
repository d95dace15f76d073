namespace Man.Local.Training;

/// <summary>A checkpoint file could not be read: not a checkpoint, truncated, corrupt, or for another model.</summary>
public sealed class CheckpointException : Exception
{
    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Creates the exception; the message is prefixed with the file.</summary>
    public CheckpointException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner) => Path = path;
}
