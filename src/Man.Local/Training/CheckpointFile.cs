using System.Security.Cryptography;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Man.Local.Training;

/// <summary>
/// The container of a Man.Vision checkpoint: the magic "MANCKPT1", a JSON header (metadata, payload length
/// and SHA-256), then the binary payload (model, optimizer and RNG state). Written to a temporary file and
/// renamed, so that a crash never leaves a half-written checkpoint under the real name.
/// </summary>
public static class CheckpointFile
{
    private static readonly byte[] Magic = "MANCKPT1"u8.ToArray();

    /// <summary>Writes <paramref name="header"/> and <paramref name="payload"/> to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, JObject header, byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        Write(path, header, s => s.Write(payload));
    }

    /// <summary>
    /// Writes <paramref name="header"/> and the payload that <paramref name="writePayload"/> produces to
    /// <paramref name="path"/> atomically, without holding the payload in memory: it is streamed (and hashed) into
    /// a temporary file, then copied behind the header into a second temporary file that is flushed and renamed.
    /// </summary>
    public static void Write(string path, JObject header, Action<Stream> writePayload)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(writePayload);
        string full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        string tmp = full + $".{Environment.ProcessId}.tmp";
        string payloadTmp = full + $".{Environment.ProcessId}.payload.tmp";
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long length;
            using (var ps = new FileStream(payloadTmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            using (var hashing = new HashingStream(ps, hash))
            {
                writePayload(hashing);
                hashing.Flush();
                length = hashing.Length;
            }
            header["payload_length"] = length;
            header["payload_sha256"] = Convert.ToHexString(hash.GetHashAndReset());
            byte[] json = Encoding.UTF8.GetBytes(header.ToString(Formatting.None));
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                using (var w = new BinaryWriter(fs, Encoding.UTF8, leaveOpen: true))
                {
                    w.Write(Magic);
                    w.Write(json.Length);
                    w.Write(json);
                }
                using (var ps = new FileStream(payloadTmp, FileMode.Open, FileAccess.Read, FileShare.None, 1 << 20))
                    ps.CopyTo(fs, 1 << 20);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            File.Delete(payloadTmp);
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>A write-only stream that hashes what passes through it and counts the bytes.</summary>
    private sealed class HashingStream(Stream inner, IncrementalHash hash) : Stream
    {
        private long length;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => length;
        public override long Position { get => length; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            inner.Write(buffer);
            length += buffer.Length;
        }
    }

    /// <summary>Reads only the header.</summary>
    /// <exception cref="CheckpointException">Not a Man.Vision checkpoint, or its header is damaged.</exception>
    public static JObject ReadHeader(string path) => Read(path, withPayload: false).Header;

    /// <summary>Reads and verifies the header and payload.</summary>
    /// <exception cref="CheckpointException">Missing, foreign, truncated or corrupt file.</exception>
    public static (JObject Header, byte[] Payload) Read(string path) => Read(path, withPayload: true)!;

    /// <summary>
    /// The learner's tensors (names as in its state dict: <c>model.*</c>, <c>aux.*</c>, <c>head.*</c>) read from a
    /// checkpoint without building a model, e.g. to take a trained backbone into another task.
    /// </summary>
    /// <exception cref="CheckpointException">Missing, foreign, truncated or corrupt file.</exception>
    public static Dictionary<string, TorchSharp.torch.Tensor> ReadTensors(string path)
    {
        var (_, payload) = Read(path);
        var result = new Dictionary<string, TorchSharp.torch.Tensor>();
        try
        {
            using var r = new BinaryReader(new MemoryStream(payload));
            long count = Decode(r);
            for (long i = 0; i < count; i++)
            {
                string name = r.ReadString();
                var dtype = (TorchSharp.torch.ScalarType)Decode(r);
                var shape = new long[Decode(r)];
                for (int d = 0; d < shape.Length; d++) shape[d] = Decode(r);
                long elements = shape.Aggregate(1L, (a, b) => a * b);
                byte[] bytes = r.ReadBytes(checked((int)(elements * ElementSize(dtype))));
                var t = TorchSharp.torch.empty(shape, dtype);
                bytes.CopyTo(t.bytes);
                result[name] = t;
            }
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException or OverflowException or InvalidCastException)
        {
            foreach (var t in result.Values) t.Dispose();
            throw new CheckpointException(path, "its model section cannot be read: " + e.Message, e);
        }
        return result;
    }

    private static long Decode(BinaryReader r)
    {
        long value = 0;
        int shift = 0;
        while (true)
        {
            byte b = r.ReadByte();
            value |= (long)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return value;
            shift += 7;
            if (shift > 63) throw new OverflowException("a length field is longer than 64 bits.");
        }
    }

    private static int ElementSize(TorchSharp.torch.ScalarType t) => t switch
    {
        TorchSharp.torch.ScalarType.Byte or TorchSharp.torch.ScalarType.Int8 or TorchSharp.torch.ScalarType.Bool => 1,
        TorchSharp.torch.ScalarType.Int16 or TorchSharp.torch.ScalarType.Float16 or TorchSharp.torch.ScalarType.BFloat16 => 2,
        TorchSharp.torch.ScalarType.Int32 or TorchSharp.torch.ScalarType.Float32 => 4,
        TorchSharp.torch.ScalarType.Int64 or TorchSharp.torch.ScalarType.Float64 => 8,
        _ => throw new ArgumentException($"unsupported tensor type {t}."),
    };

    private static (JObject Header, byte[] Payload) Read(string path, bool withPayload)
    {
        if (!File.Exists(path)) throw new CheckpointException(path, "no such checkpoint file.");
        using var fs = File.OpenRead(path);
        using var r = new BinaryReader(fs);
        var magic = r.ReadBytes(Magic.Length);
        if (!magic.AsSpan().SequenceEqual(Magic))
            throw new CheckpointException(path,
                "not a Man.Vision checkpoint (it does not start with MANCKPT1). PyTorch/torchvision weight files are imported with --pretrained, not resumed.");
        if (fs.Length < Magic.Length + 4) throw new CheckpointException(path, "truncated: the header length is missing.");
        int len = r.ReadInt32();
        if (len <= 0 || len > fs.Length - Magic.Length - 4)
            throw new CheckpointException(path, $"truncated or damaged: the header claims {len} bytes, the file has {fs.Length} in all.");
        JObject header;
        try
        {
            header = JObject.Parse(Encoding.UTF8.GetString(r.ReadBytes(len)));
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, "the header is not valid JSON: " + e.Message, e);
        }
        long payloadLength = header.Value<long?>("payload_length")
            ?? throw new CheckpointException(path, "the header has no payload_length.");
        long have = fs.Length - fs.Position;
        if (have != payloadLength)
            throw new CheckpointException(path,
                $"truncated: the payload should be {payloadLength} bytes but {have} are present (the write was interrupted, or the file was cut). Use an earlier checkpoint.");
        if (!withPayload) return (header, []);
        byte[] payload = r.ReadBytes((int)payloadLength);
        string sha = Convert.ToHexString(SHA256.HashData(payload));
        if (!string.Equals(sha, header.Value<string>("payload_sha256"), StringComparison.OrdinalIgnoreCase))
            throw new CheckpointException(path, "corrupt: the payload's SHA-256 does not match the header. Use an earlier checkpoint.");
        return (header, payload);
    }
}
