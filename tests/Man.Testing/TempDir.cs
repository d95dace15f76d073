namespace Man.Testing;

/// <summary>
/// A fresh temporary folder (<c>PREFIX-PID-GUID</c> under the system's temp folder) deleted on dispose, so that a failing
/// test (an assertion thrown before its last line) leaves nothing behind. Converts to its path.
/// </summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "man-tests")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    /// <summary>The path of <paramref name="relative"/> inside the folder, its parent folders created.</summary>
    public string File(string relative)
    {
        string p = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(p)!);
        return p;
    }

    public static implicit operator string(TempDir dir) => dir.Path;

    public override string ToString() => Path;

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file still open elsewhere (e.g. a child process being killed): the temp folder is the system's to reclaim.
        }
    }
}
