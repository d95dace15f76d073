using System.Buffers.Binary;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Weights;

/// <summary>
/// Reads and writes the safetensors layout: an unsigned 64-bit little-endian header length, a UTF-8 JSON header
/// <c>{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}}</c>, then the raw data.
/// Every offset is checked against the file, so a truncated or corrupt file is reported instead of read as zeros.
/// </summary>
internal static class SafetensorsCodec
{
    private const long MaxHeader = 100L * 1024 * 1024;

    /// <summary>True when the first bytes look like a safetensors header (a plausible length, then '{').</summary>
    public static bool LooksLikeSafetensors(ReadOnlySpan<byte> head, long fileLength)
    {
        if (head.Length < 9) return false;
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(head);
        return n >= 2 && n <= (ulong)MaxHeader && head[8] == (byte)'{';
    }

    public static List<(TensorInfo Info, long Begin, long End)> ReadHeader(string path, Stream stream)
    {
        long length = stream.Length;
        Span<byte> lenBytes = stackalloc byte[8];
        stream.Position = 0;
        if (stream.Read(lenBytes) != 8) throw new WeightsFileException(path, "the file is shorter than a safetensors header (8 bytes).");
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(lenBytes);
        if (headerLen > (ulong)MaxHeader || (long)headerLen > length - 8)
            throw new WeightsFileException(path,
                $"the safetensors header claims {headerLen} bytes but the file has {length} bytes: the file is truncated or not safetensors. Download or export it again.");
        var json = new byte[headerLen];
        stream.ReadExactly(json);
        long dataStart = 8 + (long)headerLen;
        long dataLength = length - dataStart;
        var entries = new List<(TensorInfo, long, long)>();
        JObject doc;
        try
        {
            using var reader = new JsonTextReader(new StreamReader(new MemoryStream(json), new UTF8Encoding(false, throwOnInvalidBytes: true)))
            {
                DateParseHandling = DateParseHandling.None,
            };
            var root = JToken.ReadFrom(reader);
            if (root is not JObject o) throw new WeightsFileException(path, "the safetensors header is not a JSON object.");
            doc = o;
        }
        catch (Exception e) when (e is JsonException or DecoderFallbackException)
        {
            throw new WeightsFileException(path, $"the safetensors header is not valid JSON ({e.Message}). The file is corrupt; export it again.", e);
        }
        foreach (var prop in doc.Properties())
        {
            if (prop.Name == "__metadata__") continue;
            var e = prop.Value;
            string where = $"tensor '{prop.Name}' of the safetensors header";
            if (e is not JObject entry
                || entry["dtype"] is not JValue { Type: JTokenType.String } dt
                || entry["shape"] is not JArray sh || sh.Any(v => v is not JValue { Value: long })
                || entry["data_offsets"] is not JArray { Count: 2 } off || off.Any(v => v is not JValue { Value: long }))
                throw new WeightsFileException(path, $"{where} needs dtype (a string), shape (integers) and data_offsets [begin, end] (integers).");
            var dtype = ParseDType(path, prop.Name, (string)dt!);
            long[] shape = sh.Select(v => (long)v).ToArray();
            long begin = (long)off[0], end = (long)off[1];
            var info = new TensorInfo(prop.Name, shape, dtype);
            long expected = info.Elements * ElementSize(dtype);
            if (shape.Any(s => s < 0) || begin < 0 || end < begin || end - begin != expected)
                throw new WeightsFileException(path, $"{where} has offsets [{begin}, {end}] that do not hold {ShapeFormat.Of(shape)} {ShapeFormat.DType(dtype)} ({expected} bytes).");
            if (end > dataLength)
                throw new WeightsFileException(path,
                    $"{where} ends at byte {end} of the data but the file holds only {dataLength} data bytes: the file is truncated. Download or export it again.");
            entries.Add((info, dataStart + begin, dataStart + end));
        }
        return entries;
    }

    public static Tensor ReadTensor(Stream stream, TensorInfo info, long begin, long end)
    {
        long n = end - begin;
        if (n > int.MaxValue) throw new NotSupportedException($"Tensor '{info.Name}' is larger than 2 GB, which this reader does not support.");
        var buffer = new byte[n];
        stream.Position = begin;
        stream.ReadExactly(buffer);
        var t = empty(info.Shape, info.DType);
        if (n > 0) t.bytes = buffer;
        return t;
    }

    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        var list = tensors.Select(p => (p.Name, Tensor: p.Tensor.detach().cpu().contiguous())).ToList();
        try
        {
            var root = new JObject { ["__metadata__"] = new JObject { ["format"] = "pt" } };
            long offset = 0;
            foreach (var (name, t) in list)
            {
                long n = t.numel() * ElementSize(t.dtype);
                root[name] = new JObject
                {
                    ["dtype"] = DTypeName(t.dtype),
                    ["shape"] = new JArray(t.shape.Select(v => (object)v).ToArray()),
                    ["data_offsets"] = new JArray(offset, offset + n),
                };
                offset += n;
            }
            var header = new UTF8Encoding(false).GetBytes(root.ToString(Formatting.None)).ToList();
            while (header.Count % 8 != 0) header.Add((byte)' ');
            using var f = File.Create(path);
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Count);
            f.Write(len);
            f.Write(header.ToArray());
            foreach (var (_, t) in list)
                if (t.numel() > 0) f.Write(t.bytes);
        }
        finally
        {
            foreach (var (_, t) in list) t.Dispose();
        }
    }

    private static ScalarType ParseDType(string path, string name, string s) => s switch
    {
        "F64" => ScalarType.Float64,
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new WeightsFileException(path, $"tensor '{name}' has the safetensors dtype '{s}', which is not supported (F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL are)."),
    };

    private static string DTypeName(ScalarType t) => t switch
    {
        ScalarType.Float64 => "F64",
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"Tensors of type {t} cannot be written as safetensors."),
    };

    private static long ElementSize(ScalarType t) => t switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };
}
