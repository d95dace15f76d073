using System.Buffers.Binary;
using System.IO.Compression;
using Man.Vision.Data.Diagnostics;

namespace Man.Vision.Data.Segmentation;

/// <summary>
/// A small PNG reader and writer for label images: it returns the stored samples (palette <em>indices</em>,
/// not the colours they stand for, which SkiaSharp cannot give) and writes 8-bit palette or grey PNGs.
/// </summary>
/// <remarks>
/// Reads every standard layout: colour types 0/2/3/4/6, bit depths 1–16, Adam7 interlacing, all five row
/// filters; chunk CRCs are checked. Errors are <see cref="BadInputException"/>s naming the file and the problem.
/// </remarks>
public static class PngCodec
{
    /// <summary>The kind of a PNG that cannot be read.</summary>
    public const string CorruptKind = "corrupt-png";

    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];
    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>Reads a PNG file.</summary>
    /// <exception cref="BadInputException">The file is missing, not a PNG, truncated or corrupt.</exception>
    public static PngLabelImage Read(string path)
    {
        if (!File.Exists(path)) throw new BadInputException("missing-label", path, "the label image does not exist");
        return Decode(File.ReadAllBytes(path), path);
    }

    /// <summary>True when the bytes start with the PNG signature.</summary>
    public static bool IsPng(ReadOnlySpan<byte> bytes) => bytes.Length >= 8 && bytes[..8].SequenceEqual(Signature);

    /// <summary>Decodes PNG bytes; <paramref name="source"/> names the file in error messages.</summary>
    public static PngLabelImage Decode(byte[] bytes, string source = "<png>")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (!IsPng(bytes))
            throw new BadInputException(CorruptKind, source, "not a PNG file (the 8-byte PNG signature is missing)");
        int pos = 8, width = 0, height = 0, depth = 0, colorType = -1, interlace = 0;
        byte[] palette = [];
        using var idat = new MemoryStream();
        bool seenEnd = false;
        while (pos < bytes.Length && !seenEnd)
        {
            if (pos + 12 > bytes.Length) throw Bad(source, $"truncated chunk header at byte {pos}");
            uint len = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(pos));
            string type = System.Text.Encoding.ASCII.GetString(bytes, pos + 4, 4);
            if (len > int.MaxValue || pos + 12 + (long)len > bytes.Length)
                throw Bad(source, $"chunk {type} at byte {pos} says {len} bytes but the file ends first (truncated)");
            var data = bytes.AsSpan(pos + 8, (int)len);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(pos + 8 + (int)len));
            if (Crc(bytes.AsSpan(pos + 4, 4 + (int)len)) != crc)
                throw Bad(source, $"CRC mismatch in chunk {type} at byte {pos} (corrupt file)");
            switch (type)
            {
                case "IHDR":
                    if (len != 13) throw Bad(source, "IHDR chunk is not 13 bytes");
                    width = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(data), int.MaxValue);
                    height = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(data[4..]), int.MaxValue);
                    depth = data[8];
                    colorType = data[9];
                    if (data[10] != 0 || data[11] != 0) throw Bad(source, "unknown compression or filter method in IHDR");
                    interlace = data[12];
                    if (interlace > 1) throw Bad(source, $"unknown interlace method {interlace}");
                    break;
                case "PLTE":
                    palette = data.ToArray();
                    break;
                case "IDAT":
                    idat.Write(data);
                    break;
                case "IEND":
                    seenEnd = true;
                    break;
            }
            pos += 12 + (int)len;
        }
        if (colorType < 0) throw Bad(source, "no IHDR chunk");
        if (width <= 0 || height <= 0 || (long)width * height > 1L << 30) throw Bad(source, $"invalid size {width}x{height}");
        int channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => throw Bad(source, $"unknown colour type {colorType}") };
        bool depthOk = colorType switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            _ => depth is 8 or 16,
        };
        if (!depthOk) throw Bad(source, $"bit depth {depth} is not allowed with colour type {colorType}");
        if (colorType == 3 && palette.Length == 0) throw Bad(source, "palette image without a PLTE chunk");
        if (idat.Length == 0) throw Bad(source, "no image data (IDAT)");

        byte[] raw;
        try
        {
            idat.Position = 0;
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            using var outp = new MemoryStream();
            z.CopyTo(outp);
            raw = outp.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw Bad(source, $"the compressed image data is corrupt ({e.Message})");
        }

        var samples = new ushort[(long)width * height * channels];
        int bitsPerPixel = depth * channels;
        int offset = 0;
        if (interlace == 0)
        {
            offset = Unfilter(raw, offset, width, height, bitsPerPixel, source, (x, y, vals) => Store(samples, width, channels, x, y, vals), channels, depth);
        }
        else
        {
            int[] sx = [0, 4, 0, 2, 0, 1, 0], sy = [0, 0, 4, 0, 2, 0, 1], dx = [8, 8, 4, 4, 2, 2, 1], dy = [8, 8, 8, 4, 4, 2, 2];
            for (int p = 0; p < 7; p++)
            {
                int pw = (width - sx[p] + dx[p] - 1) / dx[p], ph = (height - sy[p] + dy[p] - 1) / dy[p];
                if (pw <= 0 || ph <= 0) continue;
                int pass = p;
                offset = Unfilter(raw, offset, pw, ph, bitsPerPixel, source,
                    (x, y, vals) => Store(samples, width, channels, sx[pass] + x * dx[pass], sy[pass] + y * dy[pass], vals), channels, depth);
            }
        }
        return new PngLabelImage(width, height, colorType, depth, channels, samples, palette);
    }

    private static void Store(ushort[] samples, int width, int channels, int x, int y, ReadOnlySpan<ushort> vals)
    {
        int i = (y * width + x) * channels;
        for (int c = 0; c < channels; c++) samples[i + c] = vals[c];
    }

    private delegate void PixelSink(int x, int y, ReadOnlySpan<ushort> values);

    private static int Unfilter(byte[] raw, int offset, int w, int h, int bitsPerPixel, string source, PixelSink sink, int channels, int depth)
    {
        int stride = (int)(((long)w * bitsPerPixel + 7) / 8);
        int bpp = Math.Max(1, bitsPerPixel / 8);
        var prev = new byte[stride];
        var cur = new byte[stride];
        Span<ushort> vals = stackalloc ushort[4];
        for (int y = 0; y < h; y++)
        {
            if (offset + 1 + stride > raw.Length)
                throw Bad(source, $"the image data ends at row {y} of {h} (truncated)");
            int filter = raw[offset];
            Array.Copy(raw, offset + 1, cur, 0, stride);
            offset += 1 + stride;
            switch (filter)
            {
                case 0: break;
                case 1: for (int i = bpp; i < stride; i++) cur[i] += cur[i - bpp]; break;
                case 2: for (int i = 0; i < stride; i++) cur[i] += prev[i]; break;
                case 3:
                    for (int i = 0; i < stride; i++)
                        cur[i] += (byte)(((i >= bpp ? cur[i - bpp] : 0) + prev[i]) >> 1);
                    break;
                case 4:
                    for (int i = 0; i < stride; i++)
                    {
                        int a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                        cur[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                    }
                    break;
                default:
                    throw Bad(source, $"unknown row filter {filter} in row {y}");
            }
            for (int x = 0; x < w; x++)
            {
                if (depth == 8)
                    for (int c = 0; c < channels; c++) vals[c] = cur[x * channels + c];
                else if (depth == 16)
                    for (int c = 0; c < channels; c++) vals[c] = (ushort)(cur[(x * channels + c) * 2] << 8 | cur[(x * channels + c) * 2 + 1]);
                else
                {
                    int bit = x * depth;
                    vals[0] = (ushort)((cur[bit >> 3] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1));
                }
                sink(x, y, vals[..channels]);
            }
            (prev, cur) = (cur, prev);
        }
        return offset;
    }

    /// <summary>Writes an 8-bit palette PNG of indices (row-major, <c>height·width</c> bytes) with an RGB palette.</summary>
    public static void WritePalette(string path, ReadOnlySpan<byte> indices, int width, int height, ReadOnlySpan<byte> paletteRgb)
    {
        if (paletteRgb.Length == 0 || paletteRgb.Length % 3 != 0 || paletteRgb.Length > 768)
            throw new ArgumentException($"A PNG palette needs 1..256 RGB entries, got {paletteRgb.Length} bytes.");
        Write(path, indices, width, height, 3, paletteRgb);
    }

    /// <summary>Writes an 8-bit greyscale PNG (row-major, <c>height·width</c> bytes).</summary>
    public static void WriteGray(string path, ReadOnlySpan<byte> values, int width, int height) =>
        Write(path, values, width, height, 0, []);

    /// <summary>An 8-bit greyscale PNG (row-major, <c>height·width</c> bytes) in memory.</summary>
    public static byte[] EncodeGray(ReadOnlySpan<byte> values, int width, int height)
    {
        using var ms = new MemoryStream();
        Encode(ms, values, width, height, 0, []);
        return ms.ToArray();
    }

    private static void Write(string path, ReadOnlySpan<byte> values, int width, int height, byte colorType, ReadOnlySpan<byte> palette)
    {
        if (width <= 0 || height <= 0 || values.Length != width * height)
            throw new ArgumentException($"A {width}x{height} PNG needs {(long)width * height} bytes, got {values.Length}.");
        using var fs = File.Create(path);
        Encode(fs, values, width, height, colorType, palette);
    }

    private static void Encode(Stream fs, ReadOnlySpan<byte> values, int width, int height, byte colorType, ReadOnlySpan<byte> palette)
    {
        if (width <= 0 || height <= 0 || values.Length != width * height)
            throw new ArgumentException($"A {width}x{height} PNG needs {(long)width * height} bytes, got {values.Length}.");
        fs.Write(Signature);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)height);
        ihdr[8] = 8;
        ihdr[9] = colorType;
        WriteChunk(fs, "IHDR", ihdr);
        if (palette.Length > 0) WriteChunk(fs, "PLTE", palette);
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true))
        {
            // Filter "Up" suits label maps (long vertical runs); the first row uses "None".
            var row = new byte[width + 1];
            for (int y = 0; y < height; y++)
            {
                row[0] = (byte)(y == 0 ? 0 : 2);
                var line = values.Slice(y * width, width);
                for (int x = 0; x < width; x++)
                    row[x + 1] = y == 0 ? line[x] : (byte)(line[x] - values[(y - 1) * width + x]);
                z.Write(row);
            }
        }
        WriteChunk(fs, "IDAT", ms.ToArray());
        WriteChunk(fs, "IEND", []);
    }

    private static void WriteChunk(Stream s, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(head, (uint)data.Length);
        System.Text.Encoding.ASCII.GetBytes(type, head[4..]);
        s.Write(head);
        s.Write(data);
        var crcInput = new byte[4 + data.Length];
        head[4..].CopyTo(crcInput);
        data.CopyTo(crcInput.AsSpan(4));
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc(crcInput));
        s.Write(crc);
    }

    private static uint Crc(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFF;
    }

    private static uint[] BuildCrcTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }

    private static BadInputException Bad(string source, string problem) => new(CorruptKind, source, problem);
}
