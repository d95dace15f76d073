using System.Diagnostics;
using System.Security.Cryptography;
using Man.Vision.Backbones.Weights;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Tests;

/// <summary>
/// The torchvision reference files made by fixtures/make_fixtures.py with Debian's python3-torch/python3-torchvision.
/// The weights are large, so they are generated on first use into a cache folder keyed by the script's hash
/// (or read from MAN_BACKBONE_FIXTURES), never committed.
/// </summary>
public static class ReferenceFixtures
{
    public const string Python = "/usr/bin/python3";
    private static readonly Lazy<string> Dir = new(Generate);

    /// <summary>The committed fixtures folder (script and key lists) next to the test assembly.</summary>
    public static string Committed => Path.Combine(AppContext.BaseDirectory, "fixtures");

    public static string Script => Path.Combine(Committed, "make_fixtures.py");

    /// <summary>A generated file (the folder is produced on first call).</summary>
    public static string File(string name)
    {
        string p = Path.Combine(Dir.Value, name);
        if (!System.IO.File.Exists(p)) throw new FileNotFoundException($"The generated fixture '{name}' is missing from {Dir.Value}; delete the folder to regenerate it.", p);
        return p;
    }

    /// <summary>Reads a generated outputs/inputs file into name → tensor (caller disposes via a scope).</summary>
    public static Dictionary<string, Tensor> Tensors(string name)
    {
        var f = WeightsReader.Read(File(name));
        return f.Tensors.ToDictionary(p => p.Key, p => p.Value);
    }

    /// <summary>Runs the generator script with the given arguments and returns its standard output.</summary>
    public static string RunScript(params string[] args)
    {
        EnsurePython();
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(true);
            throw new TimeoutException($"{Script} {string.Join(" ", args)} did not finish within 5 minutes.");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{Script} {string.Join(" ", args)} failed with exit code {p.ExitCode}:\n{stderr.Result}");
        return stdout.Result;
    }

    private static void EnsurePython()
    {
        string? problem = null;
        if (!System.IO.File.Exists(Python)) problem = $"{Python} does not exist";
        else
        {
            var psi = new ProcessStartInfo(Python, ["-c", "import torch, torchvision"]) { RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) problem = $"'{Python} -c \"import torch, torchvision\"' failed: {err.Trim()}";
        }
        if (problem is not null)
            throw new InvalidOperationException(
                $"The torchvision reference fixtures need Debian's PyTorch: {problem}. Install it with " +
                "'apt-get install python3-torch python3-torchvision', or set MAN_BACKBONE_FIXTURES to a folder made by " +
                "'/usr/bin/python3 tests/Man.Vision.Backbones.Tests/fixtures/make_fixtures.py generate FOLDER'.");
    }

    private static string Generate()
    {
        string? fromEnv = Environment.GetEnvironmentVariable("MAN_BACKBONE_FIXTURES");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            if (!System.IO.File.Exists(Path.Combine(fromEnv, "DONE")))
                throw new InvalidOperationException($"MAN_BACKBONE_FIXTURES={fromEnv} is not a finished fixture folder (no DONE file).");
            return fromEnv;
        }
        string hash = Convert.ToHexString(SHA256.HashData(System.IO.File.ReadAllBytes(Script)))[..16].ToLowerInvariant();
        string root = Path.Combine(Path.GetTempPath(), "man-vision-backbones-fixtures");
        Directory.CreateDirectory(root);
        string dir = Path.Combine(root, hash);
        if (System.IO.File.Exists(Path.Combine(dir, "DONE"))) return dir;
        // One generator at a time across test processes.
        using var lockFile = AcquireLock(Path.Combine(root, hash + ".lock"));
        if (System.IO.File.Exists(Path.Combine(dir, "DONE"))) return dir;
        string temp = dir + ".tmp";
        if (Directory.Exists(temp)) Directory.Delete(temp, true);
        RunScript("generate", temp);
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        Directory.Move(temp, dir);
        // Folders of earlier script versions are ≈500 MB each: remove them.
        foreach (var stale in Directory.GetDirectories(root).Where(d => !string.Equals(d, dir, StringComparison.Ordinal)))
        {
            try { Directory.Delete(stale, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        return dir;
    }

    private static FileStream AcquireLock(string path)
    {
        var deadline = DateTime.UtcNow.AddMinutes(10);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(500);
            }
        }
    }
}
