using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Images;

namespace Man.Vision.Data.Classification;

/// <summary>
/// CIFAR-10 from a <c>.tar.gz</c> of JPEGs laid out as <c>cifar10/{train,test}/&lt;class&gt;/*.jpg</c> (the shared
/// <c>cifar10-jpeg.tar.gz</c>), read straight from the archive and decoded once into memory, with an optional cache of
/// the decoded arrays (NumPy <c>.npy</c> files) that makes later loads take well under a second.
/// </summary>
/// <remarks>
/// Images are ordered by class, then by entry name (ordinal), within each split; labels follow torchvision's class
/// order (<see cref="Classes"/>). The split sizes are checked (50,000 / 10,000, 5,000 / 1,000 per class), so a
/// truncated archive can never pass as a smaller data set.
/// </remarks>
public static class Cifar10
{
    /// <summary>The class names in torchvision's order (label = position).</summary>
    public static IReadOnlyList<string> Classes { get; } =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>Images per split.</summary>
    public const int TrainCount = 50_000, TestCount = 10_000;

    /// <summary>Image side in pixels.</summary>
    public const int Size = 32;

    private const int CacheVersion = 1;

    /// <summary>Loads both splits.</summary>
    /// <param name="archive">The <c>.tar.gz</c> file.</param>
    /// <param name="cacheDir">A folder for the decoded-array cache (created when missing); null for no cache. The cache
    /// key is the archive's length and a hash of its first and last 64 KiB, so a changed archive is decoded again.</param>
    /// <param name="log">Where repairs (extension mismatches, grayscale images, a rebuilt cache) are counted; optional.</param>
    /// <param name="decodeThreads">Threads decoding the JPEGs (default 2).</param>
    /// <exception cref="BadInputException">The archive is missing, corrupt or truncated (the message names the entry it
    /// broke after), an entry does not decode, or the split sizes are wrong.</exception>
    public static ClassificationSplits Load(string archive, string? cacheDir = null, BadInputLog? log = null, int decodeThreads = 2)
    {
        ArgumentException.ThrowIfNullOrEmpty(archive);
        ArgumentOutOfRangeException.ThrowIfLessThan(decodeThreads, 1);
        if (!File.Exists(archive))
            throw new BadInputException("missing-file", archive, "the CIFAR-10 archive does not exist.");
        string? cachePath = null;
        if (cacheDir is not null)
        {
            cachePath = Path.Combine(cacheDir, $"cifar10-v{CacheVersion}-{CacheKey(archive)}");
            if (Directory.Exists(cachePath))
            {
                try
                {
                    return ReadCache(cachePath, archive);
                }
                catch (Exception e) when (e is BadInputException or IOException or FormatException or ArgumentException)
                {
                    log?.Repaired("cache-rebuilt", cachePath, $"the cache could not be read ({e.Message}); decoded the archive again.");
                    Directory.Delete(cachePath, recursive: true);
                }
            }
        }
        var (train, test) = ReadArchive(archive, log, decodeThreads);
        if (cachePath is not null) WriteCache(cachePath, train, test);
        return new ClassificationSplits(train.ToSet("cifar10:train", archive), test.ToSet("cifar10:test", archive));
    }

    private sealed record Split(string Name, byte[] Pixels, int[] Labels, string[] Sources)
    {
        public InMemoryImageSet ToSet(string name, string archive)
            => new($"{name} ({archive})", Classes, Pixels, Labels, Size, Size, 3, archive, i => Sources[i]);
    }

    private static (Split Train, Split Test) ReadArchive(string archive, BadInputLog? log, int threads)
    {
        var entries = new List<(int Split, int Label, string Name, byte[] Data)>(TrainCount + TestCount);
        string last = "(none: the archive broke before its first entry)";
        try
        {
            using var file = new FileStream(archive, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            using var gz = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gz);
            while (tar.GetNextEntry(copyData: false) is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
                string name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
                var parts = name.Split('/', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 3 || !ImageDecoder.HasImageExtension(name)) continue;
                int split = parts[^3] switch { "train" => 0, "test" => 1, _ => -1 };
                if (split < 0) continue;
                int label = IndexOfClass(parts[^2]);
                if (label < 0)
                    throw new BadInputException("unknown-class", $"{archive}!{name}",
                        $"'{parts[^2]}' is not a CIFAR-10 class (expected one of {string.Join(", ", Classes)}).");
                var data = new byte[entry.Length];
                if (entry.DataStream is { } ds) ds.ReadExactly(data);
                entries.Add((split, label, name, data));
                last = name;
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or IOException
                                  && e is not BadInputException)
        {
            throw new BadInputException("corrupt-archive", archive,
                $"the archive is corrupt or truncated: reading failed after entry '{last}' ({entries.Count} images read): {e.Message}", e);
        }
        return (Decode(archive, entries, 0, TrainCount, log, threads), Decode(archive, entries, 1, TestCount, log, threads));
    }

    private static Split Decode(string archive, List<(int Split, int Label, string Name, byte[] Data)> all, int split, int expected, BadInputLog? log, int threads)
    {
        string splitName = split == 0 ? "train" : "test";
        var items = all.Where(e => e.Split == split)
            .OrderBy(e => e.Label).ThenBy(e => e.Name, StringComparer.Ordinal).ToArray();
        if (items.Length != expected)
            throw new BadInputException("incomplete-archive", archive,
                $"the {splitName} split has {items.Length} images, CIFAR-10 has {expected}: the archive is truncated or incomplete.");
        var perClass = new int[Classes.Count];
        foreach (var it in items) perClass[it.Label]++;
        for (int c = 0; c < perClass.Length; c++)
            if (perClass[c] != expected / Classes.Count)
                throw new BadInputException("incomplete-archive", archive,
                    $"the {splitName} split has {perClass[c]} '{Classes[c]}' images, CIFAR-10 has {expected / Classes.Count}.");

        const int bytes = Size * Size * 3;
        var pixels = GC.AllocateUninitializedArray<byte>(items.Length * bytes);
        var labels = new int[items.Length];
        var sources = new string[items.Length];
        ExceptionDispatchInfo? failure = null;
        int nextChunk = -1;
        const int chunk = 512;
        void Work()
        {
            while (Volatile.Read(ref failure) is null)
            {
                int c = Interlocked.Increment(ref nextChunk);
                int start = c * chunk;
                if (start >= items.Length) return;
                for (int i = start; i < Math.Min(start + chunk, items.Length); i++)
                {
                    try
                    {
                        sources[i] = $"{archive}!{items[i].Name}";
                        labels[i] = items[i].Label;
                        ImageDecoder.DecodeInto(items[i].Data, sources[i], pixels.AsSpan(i * bytes, bytes), Size, Size, log);
                    }
                    catch (Exception e)
                    {
                        Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
                        return;
                    }
                }
            }
        }
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(Work) { IsBackground = true }).ToArray();
        foreach (var t in workers) t.Start();
        foreach (var t in workers) t.Join();
        failure?.Throw();
        return new Split(splitName, pixels, labels, sources);
    }

    private static int IndexOfClass(string name)
    {
        for (int i = 0; i < Classes.Count; i++)
            if (string.Equals(Classes[i], name, StringComparison.Ordinal)) return i;
        return -1;
    }

    private static string CacheKey(string archive)
    {
        using var fs = new FileStream(archive, FileMode.Open, FileAccess.Read, FileShare.Read);
        const int block = 64 * 1024;
        var head = new byte[(int)Math.Min(block, fs.Length)];
        fs.ReadExactly(head);
        var tail = new byte[(int)Math.Min(block, fs.Length)];
        fs.Seek(-tail.Length, SeekOrigin.End);
        fs.ReadExactly(tail);
        var hash = SHA256.HashData([.. BitConverter.GetBytes(fs.Length), .. head, .. tail]);
        return Convert.ToHexStringLower(hash)[..16];
    }

    private static void WriteCache(string cachePath, Split train, Split test)
    {
        string parent = Path.GetDirectoryName(Path.GetFullPath(cachePath))!;
        Directory.CreateDirectory(parent);
        string tmp = Path.Combine(parent, $".{Path.GetFileName(cachePath)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(tmp);
        try
        {
            foreach (var s in new[] { train, test })
            {
                NpyFile.Write(Path.Combine(tmp, $"{s.Name}_x.npy"), s.Pixels, s.Labels.Length, Size, Size, 3);
                NpyFile.Write(Path.Combine(tmp, $"{s.Name}_y.npy"), s.Labels.Select(l => (long)l).ToArray(), s.Labels.Length);
                File.WriteAllLines(Path.Combine(tmp, $"{s.Name}_sources.txt"), s.Sources.Select(src => src[(src.IndexOf('!') + 1)..]));
            }
            File.WriteAllLines(Path.Combine(tmp, "classes.txt"), Classes);
            try
            {
                Directory.Move(tmp, cachePath); // atomic on one file system: readers see a complete cache or none
            }
            catch (IOException) when (Directory.Exists(cachePath))
            {
                // another process wrote the same cache first
            }
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        }
    }

    private static ClassificationSplits ReadCache(string cachePath, string archive)
    {
        var classes = File.ReadAllLines(Path.Combine(cachePath, "classes.txt"));
        if (!classes.SequenceEqual(Classes))
            throw new FormatException("classes.txt does not list the CIFAR-10 classes.");
        Split Read(string name, int expected)
        {
            var (x, xs) = NpyFile.ReadBytes(Path.Combine(cachePath, $"{name}_x.npy"));
            var (y, ys) = NpyFile.ReadInt64(Path.Combine(cachePath, $"{name}_y.npy"));
            var src = File.ReadAllLines(Path.Combine(cachePath, $"{name}_sources.txt"));
            if (!xs.SequenceEqual(new long[] { expected, Size, Size, 3 }) || ys.Length != 1 || ys[0] != expected || src.Length != expected)
                throw new FormatException($"the {name} arrays have the wrong shape.");
            var labels = new int[expected];
            for (int i = 0; i < expected; i++) labels[i] = (int)y[i];
            return new Split(name, x, labels, src.Select(s => $"{archive}!{s}").ToArray());
        }
        return new ClassificationSplits(Read("train", TrainCount).ToSet("cifar10:train", archive), Read("test", TestCount).ToSet("cifar10:test", archive));
    }
}
