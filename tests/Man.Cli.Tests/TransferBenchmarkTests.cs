using Man.Testing;
using Xunit.Abstractions;

namespace Man.Cli.Tests;

public sealed class TransferBenchmarkTests(ITestOutputHelper output)
{
    [Fact]
    public void AMissingDataSetIsNamedBeforeAnyTrainingStarts()
    {
        using var root = new TempDir("man-transfer");
        File.WriteAllBytes(Path.Combine(root, "cifar10-jpeg.tar.gz"), [0x1f, 0x8b]);
        Directory.CreateDirectory(Path.Combine(root, "raccoon-voc"));
        string outDir = Path.Combine(root, "runs");
        var (code, stdout, stderr) = CliRunner.Run("bench", "transfer", "--data-root", root, "--out", outDir);
        output.WriteLine(stdout + stderr);
        Assert.NotEqual(0, code);
        string message = (stdout + stderr).Replace("\n", "", StringComparison.Ordinal);
        Assert.Contains(Path.Combine(root, "camvid"), message);
        Assert.Contains("is missing", message);
        Assert.False(Directory.Exists(outDir), "no run folder before the data check passed");

        (code, stdout, stderr) = CliRunner.Run("bench", "transfer", "--data-root", root, "--tasks", "detect,classify", "--out", outDir);
        Assert.NotEqual(0, code);
        Assert.Contains("--tasks takes detect and/or segment (got 'classify')", (stdout + stderr).Replace("\n", "", StringComparison.Ordinal));
    }
}
