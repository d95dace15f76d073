using System.Globalization;
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
    /// an error), boxes must be four finite numbers with non-negative width and height, scores finite.
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
            CocoJson.ReadArray(reader, source, "detections", (item, index) =>
            {
                string entry = $"detection #{index}";
                var o = CocoJson.AsObject(item, source, entry);
                long imageId = CocoJson.Integer(o, "image_id", source, entry);
                long categoryId = CocoJson.Integer(o, "category_id", source, entry);
                var (x, y, w, h) = CocoJson.Box(o, "bbox", source, entry);
                double score = CocoJson.Number(o, "score", source, entry);
                if (!groundTruth.HasImage(imageId))
                    throw CocoJson.Error(source, entry, o, $"image_id {imageId} is not an image of the ground truth ({groundTruth.Source}).");
                if (!groundTruth.HasCategory(categoryId))
                    throw CocoJson.Error(source, entry, o, $"category_id {categoryId} is not a category of the ground truth ({groundTruth.Source}).");
                detections.Add(new CocoDetection(imageId, categoryId, x, y, w, h, score));
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
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
