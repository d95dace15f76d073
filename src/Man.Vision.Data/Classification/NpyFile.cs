using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Man.Vision.Data.Diagnostics;

namespace Man.Vision.Data.Classification;

/// <summary>
/// Reads and writes NumPy <c>.npy</c> files (format 1.0, C order, little endian) of <c>uint8</c> and <c>int64</c> arrays,
/// used for decoded-data caches that Python can open with <c>numpy.load</c>.
/// </summary>
public static partial class NpyFile
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Writes a <c>uint8</c> array of the given shape.</summary>
    public static void Write(string path, ReadOnlySpan<byte> data, params long[] shape) => WriteRaw(path, "|u1", data, shape, 1);

    /// <summary>Writes an <c>int64</c> array of the given shape.</summary>
    public static void Write(string path, ReadOnlySpan<long> data, params long[] shape)
        => WriteRaw(path, "<i8", MemoryMarshal.AsBytes(data), shape, 8);

    /// <summary>Reads a <c>uint8</c> array and its shape.</summary>
    /// <exception cref="BadInputException">The file is not a uint8 .npy file or is truncated.</exception>
    public static (byte[] Data, long[] Shape) ReadBytes(string path)
    {
        var (data, shape) = ReadRaw(path, "|u1", 1);
        return (data, shape);
    }

    /// <summary>Reads an <c>int64</c> array and its shape.</summary>
    /// <exception cref="BadInputException">The file is not an int64 .npy file or is truncated.</exception>
    public static (long[] Data, long[] Shape) ReadInt64(string path)
    {
        var (bytes, shape) = ReadRaw(path, "<i8", 8);
        var values = new long[bytes.Length / 8];
        MemoryMarshal.Cast<byte, long>(bytes).CopyTo(values);
        if (!BitConverter.IsLittleEndian)
            for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReverseEndianness(values[i]);
        return (values, shape);
    }

    private static void WriteRaw(string path, string descr, ReadOnlySpan<byte> data, long[] shape, int itemSize)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count * itemSize != data.Length)
            throw new ArgumentException($"Shape ({string.Join(", ", shape)}) needs {count * itemSize} bytes, got {data.Length}.");
        string shapeText = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shapeText}, }}";
        int total = Magic.Length + 2 + 2 + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        string header = dict + new string(' ', pad) + "\n";
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        fs.Write(Magic);
        fs.WriteByte(1);
        fs.WriteByte(0);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        fs.Write(len);
        fs.Write(Encoding.ASCII.GetBytes(header));
        fs.Write(data);
    }

    private static (byte[] Data, long[] Shape) ReadRaw(string path, string descr, int itemSize)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        Span<byte> head = stackalloc byte[10];
        if (fs.ReadAtLeast(head, 10, throwOnEndOfStream: false) < 10 || !head[..6].SequenceEqual(Magic))
            throw new BadInputException("bad-npy", path, "not a .npy file (bad magic).");
        if (head[6] != 1)
            throw new BadInputException("bad-npy", path, $"unsupported .npy version {head[6]}.{head[7]} (1.0 expected).");
        int hlen = BinaryPrimitives.ReadUInt16LittleEndian(head[8..10]);
        var hbytes = new byte[hlen];
        if (fs.ReadAtLeast(hbytes, hlen, throwOnEndOfStream: false) < hlen)
            throw new BadInputException("bad-npy", path, "the .npy header is truncated.");
        string header = Encoding.ASCII.GetString(hbytes);
        var m = HeaderRegex().Match(header);
        if (!m.Success)
            throw new BadInputException("bad-npy", path, $"cannot parse the .npy header {header.Trim()}.");
        if (m.Groups["descr"].Value != descr || m.Groups["fortran"].Value != "False")
            throw new BadInputException("bad-npy", path, $"expected dtype '{descr}' in C order, the header says {header.Trim()}.");
        var shape = m.Groups["shape"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        long bytes = shape.Aggregate(1L, (a, b) => a * b) * itemSize;
        if (fs.Length - fs.Position != bytes)
            throw new BadInputException("bad-npy", path, $"the shape ({string.Join(", ", shape)}) needs {bytes} data bytes, the file holds {fs.Length - fs.Position}.");
        var data = GC.AllocateUninitializedArray<byte>(checked((int)bytes));
        fs.ReadExactly(data);
        return (data, shape);
    }

    [GeneratedRegex(@"'descr':\s*'(?<descr>[^']+)',\s*'fortran_order':\s*(?<fortran>True|False),\s*'shape':\s*\((?<shape>[^)]*)\)")]
    private static partial Regex HeaderRegex();
}
