using System.Globalization;
using Man.Vision.Data.Masks;
using Newtonsoft.Json.Linq;
using Newtonsoft.Json;

namespace Man.Vision.Detection.Evaluation;

/// <summary>
/// Reads and writes detections in COCO's result format: a JSON array of
/// <c>{"image_id": int, "category_id": int, "bbox": [x, y, w, h], "score": number}</c>.
/// </summary>
public static class CocoResultsFile
{
    /// <summary>
    /// Reads a result file and checks every entry against <paramref name="groundTruth"/>: image and category ids must
    /// exist there (pycocotools asserts the image ids; an unknown category would be silently dropped by it, here it is
    /// an error), boxes must be four finite numbers with non-negative width and height, scores finite. Mask results
    /// (<c>"segmentation": {"size", "counts"}</c>) are read too; as in pycocotools' <c>loadRes</c>, when the first result
    /// has a bbox every result needs one and the box area decides the area range, otherwise the mask area does (and
    /// a missing bbox is the mask's bounding box). Masks must have their image's size.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Malformed json or an invalid entry; the message names the file and the entry index.</exception>
    public static IReadOnlyList<CocoDetection> Load(string path, CocoGroundTruth groundTruth)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The COCO detections file '{path}' does not exist.", path);
        using var text = File.OpenText(path);
        return Parse(text, path, groundTruth);
    }

    /// <summary>Reads detections from <paramref name="text"/>; <paramref name="source"/> names it in messages.</summary>
    /// <inheritdoc cref="Load"/>
    public static IReadOnlyList<CocoDetection> Parse(TextReader text, string source, CocoGroundTruth groundTruth)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(groundTruth);
        var detections = new List<CocoDetection>();
        try
        {
            using var reader = CocoJson.OpenReader(text);
            if (!reader.Read())
                throw new InvalidDataException($"{source}: the file is empty; a COCO result file is a JSON array of detections.");
            if (reader.TokenType != JsonToken.StartArray)
                throw new InvalidDataException(
                    $"{source}: a COCO result file must be a JSON array of {{\"image_id\", \"category_id\", \"bbox\", \"score\"}} objects, found {reader.TokenType}{CocoJson.Where(reader)}.");
            bool? boxResults = null;
            CocoJson.ReadArray(reader, source, "detections", (item, index) =>
            {
                string entry = $"detection #{index}";
                var o = CocoJson.AsObject(item, source, entry);
                long imageId = CocoJson.Integer(o, "image_id", source, entry);
                long categoryId = CocoJson.Integer(o, "category_id", source, entry);
                double score = CocoJson.Number(o, "score", source, entry);
                if (!groundTruth.HasImage(imageId))
                    throw CocoJson.Error(source, entry, o, $"image_id {imageId} is not an image of the ground truth ({groundTruth.Source}).");
                if (!groundTruth.HasCategory(categoryId))
                    throw CocoJson.Error(source, entry, o, $"category_id {categoryId} is not a category of the ground truth ({groundTruth.Source}).");
                bool hasBox = o.TryGetValue("bbox", StringComparison.Ordinal, out var box) && box.Type != JTokenType.Null && box is not JArray { Count: 0 };
                bool hasMask = o.TryGetValue("segmentation", StringComparison.Ordinal, out var seg) && seg.Type != JTokenType.Null;
                // pycocotools' loadRes decides by the first result: box results (area w·h) or mask results (area of the mask).
                boxResults ??= hasBox;
                Rle? mask = hasMask ? ResultMask(seg!, imageId, groundTruth, source, entry) : null;
                if (boxResults.Value)
                {
                    if (!hasBox)
                        throw CocoJson.Error(source, entry, o, "the field 'bbox' is missing (the first detection has a bbox, so every detection needs one, as in pycocotools).");
                    var (x, y, w, h) = CocoJson.Box(o, "bbox", source, entry);
                    detections.Add(new CocoDetection(imageId, categoryId, x, y, w, h, score) { Mask = mask });
                }
                else
                {
                    if (mask is null)
                        throw CocoJson.Error(source, entry, o, "the field 'segmentation' is missing (the first detection has a mask and no bbox, so every detection needs a mask).");
                    var (x, y, w, h) = hasBox ? CocoJson.Box(o, "bbox", source, entry) : mask.ToBbox();
                    detections.Add(new CocoDetection(imageId, categoryId, x, y, w, h, score) { Mask = mask, Area = mask.Area });
                }
            });
            if (reader.Read() && reader.TokenType != JsonToken.Comment)
                throw new InvalidDataException($"{source}: unexpected content after the detections array{CocoJson.Where(reader)}.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{source}: malformed JSON: {ex.Message}", ex);
        }
        return detections;
    }

    private static Rle ResultMask(JToken seg, long imageId, CocoGroundTruth groundTruth, string source, string entry)
    {
        if (seg is not JObject o)
            throw CocoJson.Error(source, entry, seg, $"'segmentation' of a result must be an RLE object {{\"size\": [h, w], \"counts\": \"...\"}}, found {CocoJson.Show(seg)}.");
        var rle = CocoJson.ReadRle(o, source, entry);
        var image = groundTruth.GetImage(imageId);
        if (image.Height > 0 && image.Width > 0 && (rle.Height != image.Height || rle.Width != image.Width))
            throw CocoJson.Error(source, entry, seg, $"the mask is {rle.Height}×{rle.Width} but image {imageId} is {image.Height}×{image.Width}.");
        return rle;
    }

    /// <summary>Writes detections in COCO's result format (numbers in invariant culture, round-trip precision).</summary>
    public static void Save(string path, IEnumerable<CocoDetection> detections)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(detections);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var stream = File.CreateText(path);
        using var w = new JsonTextWriter(stream) { Formatting = Formatting.None, Culture = CultureInfo.InvariantCulture };
        w.WriteStartArray();
        foreach (var d in detections)
        {
            w.WriteStartObject();
            w.WritePropertyName("image_id"); w.WriteValue(d.ImageId);
            w.WritePropertyName("category_id"); w.WriteValue(d.CategoryId);
            w.WritePropertyName("bbox");
            w.WriteStartArray();
            w.WriteValue(d.X); w.WriteValue(d.Y); w.WriteValue(d.Width); w.WriteValue(d.Height);
            w.WriteEndArray();
            w.WritePropertyName("score"); w.WriteValue(d.Score);
            if (d.Mask is not null)
            {
                w.WritePropertyName("segmentation");
                w.WriteStartObject();
                w.WritePropertyName("size");
                w.WriteStartArray(); w.WriteValue(d.Mask.Height); w.WriteValue(d.Mask.Width); w.WriteEndArray();
                w.WritePropertyName("counts"); w.WriteValue(d.Mask.ToCompressedString());
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
