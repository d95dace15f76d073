using System.Globalization;
using Man.Vision.Data.Masks;
using Newtonsoft.Json.Linq;
using Newtonsoft.Json;

namespace Man.Vision.Detection.Evaluation;

/// <summary>Streaming JSON helpers for the COCO files, with error messages that name the file, the entry and the line.</summary>
internal static class CocoJson
{
    public static JsonTextReader OpenReader(TextReader text) => new(text)
    {
        DateParseHandling = DateParseHandling.None,
        FloatParseHandling = FloatParseHandling.Double,
    };

    public static InvalidDataException Error(string source, string entry, JToken? at, string problem) =>
        new($"{source}: {entry}{Where(at)}: {problem}");

    public static string Where(JToken? token)
    {
        if (token is IJsonLineInfo info && info.HasLineInfo())
            return $" (line {info.LineNumber}, position {info.LinePosition})";
        return "";
    }

    public static string Where(JsonReader reader) =>
        reader is IJsonLineInfo info && info.HasLineInfo() ? $" (line {info.LineNumber}, position {info.LinePosition})" : "";

    /// <summary>Reads a JSON array at the reader, handing each element (loaded with line info) to <paramref name="onItem"/>.</summary>
    public static void ReadArray(JsonReader reader, string source, string arrayName, Action<JToken, int> onItem)
    {
        if (reader.TokenType != JsonToken.StartArray)
            throw new InvalidDataException($"{source}: '{arrayName}' must be an array{Where(reader)}, found {reader.TokenType}.");
        int index = 0;
        var settings = new JsonLoadSettings { LineInfoHandling = LineInfoHandling.Load, CommentHandling = CommentHandling.Ignore };
        while (true)
        {
            if (!reader.Read())
                throw new InvalidDataException($"{source}: the array '{arrayName}' is not closed (the file ends early).");
            if (reader.TokenType == JsonToken.EndArray) return;
            var item = JToken.ReadFrom(reader, settings);
            onItem(item, index++);
        }
    }

    public static JObject AsObject(JToken item, string source, string entry) =>
        item as JObject ?? throw Error(source, entry, item, $"must be a JSON object, found {item.Type}.");

    public static JToken Required(JObject o, string field, string source, string entry) =>
        o.TryGetValue(field, StringComparison.Ordinal, out var v) && v.Type != JTokenType.Null
            ? v
            : throw Error(source, entry, o, $"the field '{field}' is missing.");

    public static long Integer(JObject o, string field, string source, string entry)
    {
        var v = Required(o, field, source, entry);
        if (v.Type == JTokenType.Integer && v is JValue { Value: long l }) return l;
        if (v.Type == JTokenType.Float && v is JValue { Value: double d } && double.IsFinite(d) && Math.Floor(d) == d && Math.Abs(d) < 9e15)
            return (long)d;
        throw Error(source, entry, v, $"'{field}' must be an integer, found {Show(v)}.");
    }

    public static double Number(JToken v, string what, string source, string entry)
    {
        double d = v.Type switch
        {
            JTokenType.Integer => Convert.ToDouble(((JValue)v).Value, CultureInfo.InvariantCulture),
            JTokenType.Float => (double)((JValue)v).Value!,
            _ => throw Error(source, entry, v, $"{what} must be a number, found {Show(v)}."),
        };
        if (!double.IsFinite(d))
            throw Error(source, entry, v, $"{what} must be finite, found {d.ToString(CultureInfo.InvariantCulture)}.");
        return d;
    }

    public static double Number(JObject o, string field, string source, string entry) =>
        Number(Required(o, field, source, entry), $"'{field}'", source, entry);

    public static bool Flag(JObject o, string field, string source, string entry)
    {
        if (!o.TryGetValue(field, StringComparison.Ordinal, out var v) || v.Type == JTokenType.Null) return false;
        return v.Type switch
        {
            JTokenType.Boolean => (bool)v,
            JTokenType.Integer when (long)v is 0 or 1 => (long)v == 1,
            _ => throw Error(source, entry, v, $"'{field}' must be 0, 1, true or false, found {Show(v)}."),
        };
    }

    /// <summary>Reads <c>[x, y, w, h]</c>: four finite numbers with non-negative width and height.</summary>
    public static (double X, double Y, double W, double H) Box(JObject o, string field, string source, string entry)
    {
        var v = Required(o, field, source, entry);
        if (v is not JArray a || a.Count != 4)
            throw Error(source, entry, v, $"'{field}' must be [x, y, w, h] (4 numbers), found {Show(v)}.");
        double x = Number(a[0], $"'{field}'[0] (x)", source, entry);
        double y = Number(a[1], $"'{field}'[1] (y)", source, entry);
        double w = Number(a[2], $"'{field}'[2] (w)", source, entry);
        double h = Number(a[3], $"'{field}'[3] (h)", source, entry);
        if (w < 0 || h < 0)
            throw Error(source, entry, v, $"'{field}' has a negative width or height: {Show(v)} (COCO boxes are [x, y, w, h]).");
        return (x, y, w, h);
    }

    /// <summary>
    /// Reads a ground-truth <c>segmentation</c> (polygons, or an RLE with <c>size</c> and string or list <c>counts</c>).
    /// A malformed one does not stop box evaluation: it becomes an invalid segmentation that fails, with this message,
    /// only when masks are evaluated.
    /// </summary>
    public static CocoSegmentation Segmentation(JToken v, string source, string entry)
    {
        try
        {
            if (v is JArray polygons)
            {
                var list = new List<double[]>(polygons.Count);
                for (int i = 0; i < polygons.Count; i++)
                {
                    if (polygons[i] is not JArray poly)
                        throw Error(source, entry, polygons[i], $"segmentation polygon {i} must be an array of numbers, found {Show(polygons[i])}.");
                    var xy = new double[poly.Count];
                    for (int j = 0; j < poly.Count; j++) xy[j] = Number(poly[j], $"segmentation polygon {i} value {j}", source, entry);
                    list.Add(xy);
                }
                return CocoSegmentation.FromPolygons(list);
            }
            if (v is JObject o)
                return CocoSegmentation.FromRle(ReadRle(o, source, entry));
            throw Error(source, entry, v, $"'segmentation' must be a polygon list or an RLE object, found {Show(v)}.");
        }
        catch (InvalidDataException ex)
        {
            return CocoSegmentation.Invalid(ex.Message);
        }
    }

    /// <summary>Reads an RLE object <c>{"size": [h, w], "counts": "…" | [..]}</c>.</summary>
    public static Rle ReadRle(JObject o, string source, string entry)
    {
        var size = Required(o, "size", source, entry);
        if (size is not JArray { Count: 2 } hw || hw[0].Type != JTokenType.Integer || hw[1].Type != JTokenType.Integer)
            throw Error(source, entry, size, $"the RLE 'size' must be [height, width], found {Show(size)}.");
        long h = (long)hw[0], w = (long)hw[1];
        if (h < 0 || w < 0 || h > int.MaxValue || w > int.MaxValue)
            throw Error(source, entry, size, $"the RLE 'size' {Show(size)} is out of range.");
        var counts = Required(o, "counts", source, entry);
        try
        {
            if (counts.Type == JTokenType.String)
                return Rle.FromCompressedString((string)counts!, (int)h, (int)w);
            if (counts is JArray list)
            {
                var runs = new uint[list.Count];
                for (int i = 0; i < list.Count; i++)
                {
                    if (list[i].Type != JTokenType.Integer || (long)list[i] < 0 || (long)list[i] > uint.MaxValue)
                        throw Error(source, entry, list[i], $"RLE count {i} must be a non-negative integer, found {Show(list[i])}.");
                    runs[i] = (uint)(long)list[i];
                }
                return new Rle((int)h, (int)w, runs);
            }
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            throw Error(source, entry, counts, $"invalid RLE: {ex.Message}");
        }
        throw Error(source, entry, counts, $"the RLE 'counts' must be a string or a list of integers, found {Show(counts)}.");
    }

    public static string Show(JToken v)
    {
        string s = v.ToString(Formatting.None);
        return s.Length > 80 ? s[..77] + "..." : s;
    }
}
