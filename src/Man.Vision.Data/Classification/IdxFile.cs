using System.Buffers.Binary;
using System.IO.Compression;
using Man.Vision.Data.Diagnostics;

namespace Man.Vision.Data.Classification;

/// <summary>Reads the idx files of MNIST and Fashion-MNIST (unsigned-byte data, big-endian dimensions), plain or gzipped.</summary>
public static class IdxFile
{
    /// <summary>Magic number of an idx1 (labels) file: type 0x08 (ubyte), 1 dimension.</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>Magic number of an idx3 (images) file: type 0x08 (ubyte), 3 dimensions.</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Reads an idx file of unsigned bytes whose magic must be <paramref name="expectedMagic"/>.</summary>
    /// <returns>The data (row-major) and the dimensions.</returns>
    /// <exception cref="BadInputException">The file is missing, its magic number is wrong, or it is truncated (names the file and the counts).</exception>
    public static (byte[] Data, int[] Dims) Read(string path, int expectedMagic)
    {
        if (!File.Exists(path)) throw new BadInputException("missing-file", path, "the idx file does not exist.");
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            Span<byte> gzHead = stackalloc byte[2];
            int got = file.ReadAtLeast(gzHead, 2, throwOnEndOfStream: false);
            file.Position = 0;
            using Stream s = got == 2 && gzHead[0] == 0x1F && gzHead[1] == 0x8B ? new GZipStream(file, CompressionMode.Decompress) : file;
            Span<byte> head = stackalloc byte[4];
            if (s.ReadAtLeast(head, 4, throwOnEndOfStream: false) < 4)
                throw new BadInputException("bad-idx", path, "the file is too short for an idx header.");
            int magic = BinaryPrimitives.ReadInt32BigEndian(head);
            if (magic != expectedMagic)
                throw new BadInputException("bad-idx", path,
                    $"wrong idx magic number 0x{magic:X8}, expected 0x{expectedMagic:X8} ({(expectedMagic == ImagesMagic ? "images, idx3-ubyte" : expectedMagic == LabelsMagic ? "labels, idx1-ubyte" : "idx")}).");
            int nd = expectedMagic & 0xFF;
            var dims = new int[nd];
            long total = 1;
            for (int d = 0; d < nd; d++)
            {
                if (s.ReadAtLeast(head, 4, throwOnEndOfStream: false) < 4)
                    throw new BadInputException("bad-idx", path, "the idx header is truncated.");
                dims[d] = BinaryPrimitives.ReadInt32BigEndian(head);
                if (dims[d] <= 0) throw new BadInputException("bad-idx", path, $"dimension {d} is {dims[d]}.");
                total *= dims[d];
            }
            if (total > Array.MaxLength) throw new BadInputException("bad-idx", path, $"the dimensions ({string.Join("x", dims)}) are too large.");
            var data = GC.AllocateUninitializedArray<byte>((int)total);
            int read = s.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
            if (read < data.Length)
                throw new BadInputException("truncated-idx", path, $"the file is truncated: the header announces {string.Join("x", dims)} = {total} bytes, only {read} follow.");
            if (s.ReadByte() >= 0)
                throw new BadInputException("bad-idx", path, $"the file holds more data than its header announces ({string.Join("x", dims)}).");
            return (data, dims);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new BadInputException("truncated-idx", path, $"the gzip stream is corrupt or truncated: {e.Message}", e);
        }
    }
}
