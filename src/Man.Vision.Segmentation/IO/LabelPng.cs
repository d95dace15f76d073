using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Man.Vision.Segmentation.IO;

/// <summary>
/// Reads and writes label maps as PNG with their raw values: greyscale PNGs (bit depth 1–16; 16-bit values must
/// fit in a byte) give their grey levels, palette PNGs (VOC style) give their palette indices, never colours.
/// </summary>
/// <remarks>
/// SkiaSharp decodes palette PNGs to colours, which loses the class indices, so this small decoder reads the
/// chunks itself (IHDR, PLTE ignored, IDAT through zlib, the five PNG row filters). Colour or alpha PNGs and Adam7
/// interlacing are rejected with a message naming the file. Chunk CRCs are verified.
/// </remarks>
public static class LabelPng
{
    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];
    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>Reads the label map of a PNG file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a PNG, is corrupt, or is not single-channel; the message names the file.</exception>
    public static ClassMap Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Label PNG '{path}' does not exist.", path);
        byte[] bytes = File.ReadAllBytes(path);
        try
        {
            return Decode(bytes);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}': {e.Message}", e);
        }
    }

    /// <summary>Decodes PNG bytes to a label map.</summary>
    /// <exception cref="InvalidDataException">Not a single-channel PNG, or corrupt.</exception>
    public static ClassMap Decode(ReadOnlySpan<byte> png)
    {
        if (png.Length < Signature.Length || !png[..Signature.Length].SequenceEqual(Signature))
            throw new InvalidDataException("not a PNG file (bad signature).");
        int pos = Signature.Length;
        int width = 0, height = 0, bitDepth = 0, colorType = -1;
        bool sawHeader = false, sawEnd = false;
        using var idat = new MemoryStream();
        while (pos < png.Length && !sawEnd)
        {
            if (pos + 12 > png.Length) throw new InvalidDataException($"truncated chunk header at byte {pos}.");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            if (length > int.MaxValue || pos + 12 + (long)length > png.Length)
                throw new InvalidDataException($"chunk at byte {pos} claims {length} bytes beyond the end of the file.");
            ReadOnlySpan<byte> typeAndData = png.Slice(pos + 4, 4 + (int)length);
            string type = Encoding.ASCII.GetString(typeAndData[..4]);
            ReadOnlySpan<byte> data = typeAndData[4..];
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png[(pos + 8 + (int)length)..]);
            if (Crc(typeAndData) != crc) throw new InvalidDataException($"CRC mismatch in chunk '{type}' at byte {pos} (corrupt file).");
            switch (type)
            {
                case "IHDR":
                    if (data.Length != 13) throw new InvalidDataException("IHDR chunk is not 13 bytes.");
                    width = checked((int)BinaryPrimitives.ReadUInt32BigEndian(data));
                    height = checked((int)BinaryPrimitives.ReadUInt32BigEndian(data[4..]));
                    bitDepth = data[8];
                    colorType = data[9];
                    if (data[10] != 0 || data[11] != 0) throw new InvalidDataException("unknown compression or filter method.");
                    if (data[12] != 0)
                        throw new InvalidDataException("Adam7-interlaced PNGs are not supported for label maps; save it without interlacing.");
                    if (width <= 0 || height <= 0) throw new InvalidDataException($"invalid size {width}×{height}.");
                    sawHeader = true;
                    break;
                case "IDAT":
                    if (!sawHeader) throw new InvalidDataException("IDAT before IHDR.");
                    idat.Write(data);
                    break;
                case "IEND":
                    sawEnd = true;
                    break;
            }
            pos += 12 + (int)length;
        }
        if (!sawHeader) throw new InvalidDataException("no IHDR chunk.");
        if (idat.Length == 0) throw new InvalidDataException("no image data (IDAT).");
        int channels = colorType switch
        {
            0 or 3 => 1,
            2 => throw new InvalidDataException("is an RGB PNG; label maps must be single-channel (greyscale or palette indices)."),
            4 => throw new InvalidDataException("is a greyscale+alpha PNG; label maps must be single-channel without alpha."),
            6 => throw new InvalidDataException("is an RGBA PNG; label maps must be single-channel (greyscale or palette indices)."),
            _ => throw new InvalidDataException($"unknown PNG colour type {colorType}."),
        };
        bool validDepth = colorType == 0 ? bitDepth is 1 or 2 or 4 or 8 or 16 : bitDepth is 1 or 2 or 4 or 8;
        if (!validDepth) throw new InvalidDataException($"invalid bit depth {bitDepth} for colour type {colorType}.");

        int bitsPerPixel = bitDepth * channels;
        long stride = ((long)width * bitsPerPixel + 7) / 8;
        long expected = (stride + 1) * height;
        byte[] raw = new byte[expected];
        idat.Position = 0;
        using (var z = new ZLibStream(idat, CompressionMode.Decompress))
        {
            int read = 0;
            try
            {
                while (read < raw.Length)
                {
                    int n = z.Read(raw, read, raw.Length - read);
                    if (n == 0) break;
                    read += n;
                }
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"corrupt compressed image data ({e.Message}).", e);
            }
            if (read < raw.Length) throw new InvalidDataException($"image data too short: {read} of {raw.Length} bytes after decompression.");
        }
        Unfilter(raw, (int)stride, height, Math.Max(1, bitsPerPixel / 8));
        return new ClassMap(width, height, Unpack(raw, (int)stride, width, height, bitDepth));
    }

    /// <summary>Writes a label map as an 8-bit greyscale PNG.</summary>
    public static void Write(string path, ClassMap map)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllBytes(path, Encode(map));
    }

    /// <summary>Encodes a label map as an 8-bit greyscale PNG (filter "none", zlib).</summary>
    public static byte[] Encode(ClassMap map)
    {
        using var output = new MemoryStream();
        output.Write(Signature);
        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)map.Width);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], (uint)map.Height);
        header[8] = 8;  // bit depth
        header[9] = 0;  // greyscale
        header[10] = header[11] = header[12] = 0;
        WriteChunk(output, "IHDR", header);
        using (var compressed = new MemoryStream())
        {
            using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            {
                for (int y = 0; y < map.Height; y++)
                {
                    z.WriteByte(0);
                    z.Write(map.Pixels, y * map.Width, map.Width);
                }
            }
            WriteChunk(output, "IDAT", compressed.ToArray());
        }
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void Unfilter(byte[] raw, int stride, int height, int bpp)
    {
        for (int y = 0; y < height; y++)
        {
            int row = y * (stride + 1);
            byte filter = raw[row];
            int cur = row + 1, prev = row - stride; // prev row's first data byte (only valid for y > 0)
            switch (filter)
            {
                case 0:
                    break;
                case 1:
                    for (int i = bpp; i < stride; i++) raw[cur + i] += raw[cur + i - bpp];
                    break;
                case 2:
                    if (y > 0) for (int i = 0; i < stride; i++) raw[cur + i] += raw[prev + i];
                    break;
                case 3:
                    for (int i = 0; i < stride; i++)
                    {
                        int left = i >= bpp ? raw[cur + i - bpp] : 0, up = y > 0 ? raw[prev + i] : 0;
                        raw[cur + i] += (byte)((left + up) >> 1);
                    }
                    break;
                case 4:
                    for (int i = 0; i < stride; i++)
                    {
                        int a = i >= bpp ? raw[cur + i - bpp] : 0, b = y > 0 ? raw[prev + i] : 0;
                        int c = i >= bpp && y > 0 ? raw[prev + i - bpp] : 0;
                        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                        raw[cur + i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                    }
                    break;
                default:
                    throw new InvalidDataException($"unknown row filter {filter} in row {y}.");
            }
        }
    }

    private static byte[] Unpack(byte[] raw, int stride, int width, int height, int bitDepth)
    {
        var pixels = new byte[(long)width * height];
        for (int y = 0; y < height; y++)
        {
            int row = y * (stride + 1) + 1;
            int o = y * width;
            switch (bitDepth)
            {
                case 8:
                    Buffer.BlockCopy(raw, row, pixels, o, width);
                    break;
                case 16:
                    for (int x = 0; x < width; x++)
                    {
                        int v = (raw[row + 2 * x] << 8) | raw[row + 2 * x + 1];
                        if (v > 255) throw new InvalidDataException($"16-bit label value {v} at ({x}, {y}) does not fit in 8 bits.");
                        pixels[o + x] = (byte)v;
                    }
                    break;
                default:
                    int perByte = 8 / bitDepth, mask = (1 << bitDepth) - 1;
                    for (int x = 0; x < width; x++)
                    {
                        int b = raw[row + x / perByte];
                        int shift = 8 - bitDepth * (x % perByte + 1);
                        pixels[o + x] = (byte)((b >> shift) & mask);
                    }
                    break;
            }
        }
        return pixels;
    }

    private static void WriteChunk(Stream s, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> buf = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(buf, (uint)data.Length);
        s.Write(buf);
        byte[] typeAndData = new byte[4 + data.Length];
        Encoding.ASCII.GetBytes(type, typeAndData);
        data.CopyTo(typeAndData.AsSpan(4));
        s.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(buf, Crc(typeAndData));
        s.Write(buf);
    }

    private static uint Crc(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in data) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
