using System.Diagnostics;
using Man.Testing;
using Man.Vision.Data.Classification;

namespace Man.Vision.Data.Tests.Classification;

/// <summary>The shared CIFAR-10 archive decoded once per test run (with a cache written to a temp folder).</summary>
internal static class CifarFixture
{
    private static readonly Lazy<(ClassificationSplits Splits, string CacheDir, TimeSpan Elapsed)> Value = new(() =>
    {
        string cache = Path.Combine(Path.GetTempPath(), "man-data-tests-cifar-cache-" + Environment.ProcessId);
        var sw = Stopwatch.StartNew();
        var splits = Cifar10.Load(SharedData.Path("cifar10-jpeg.tar.gz"), cache);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(cache, true); } catch (IOException) { } };
        return (splits, cache, sw.Elapsed);
    });

    public static ClassificationSplits Splits => Value.Value.Splits;
    public static string CacheDir => Value.Value.CacheDir;
    public static TimeSpan DecodeTime => Value.Value.Elapsed;
}
