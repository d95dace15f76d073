using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Man.Vision.Detection.Evaluation;

/// <summary>
/// The ground truth of a COCO instances file as evaluation needs it: images, categories and annotations (id,
/// image_id, category_id, bbox, area, iscrowd). Built from a file (<see cref="Load"/>) or from records
/// (<see cref="Create"/>); either way ids are unique and every annotation names a known image and category.
/// </summary>
/// <remarks>
/// Like pycocotools, an annotation's optional <c>ignore</c> field has no effect: pycocotools overwrites it with
/// <c>iscrowd</c> before matching, so only crowd objects are ignored.
/// </remarks>
public sealed class CocoGroundTruth
{
    private readonly Dictionary<long, CocoImage> _images;
    private readonly Dictionary<long, CocoCategory> _categories;

    private CocoGroundTruth(string source, IReadOnlyList<CocoImage> images, IReadOnlyList<CocoCategory> categories, IReadOnlyList<CocoAnnotation> annotations,
        Dictionary<long, CocoImage> imageIndex, Dictionary<long, CocoCategory> categoryIndex)
    {
        Source = source;
        Images = images;
        Categories = categories;
        Annotations = annotations;
        _images = imageIndex;
        _categories = categoryIndex;
    }

    /// <summary>Where the ground truth came from (a file path or a description), used in messages.</summary>
    public string Source { get; }

    /// <summary>The images in file order.</summary>
    public IReadOnlyList<CocoImage> Images { get; }

    /// <summary>The categories in file order.</summary>
    public IReadOnlyList<CocoCategory> Categories { get; }

    /// <summary>The annotations in file order (the order matters for ties in matching, as in pycocotools).</summary>
    public IReadOnlyList<CocoAnnotation> Annotations { get; }

    /// <summary>True when an image with this id exists.</summary>
    public bool HasImage(long imageId) => _images.ContainsKey(imageId);

    /// <summary>True when a category with this id exists.</summary>
    public bool HasCategory(long categoryId) => _categories.ContainsKey(categoryId);

    /// <summary>The image with this id.</summary>
    /// <exception cref="KeyNotFoundException">No such image.</exception>
    public CocoImage GetImage(long imageId) => _images.TryGetValue(imageId, out var i) ? i
        : throw new KeyNotFoundException($"{Source}: no image with id {imageId}.");

    /// <summary>The category with this id.</summary>
    /// <exception cref="KeyNotFoundException">No such category.</exception>
    public CocoCategory GetCategory(long categoryId) => _categories.TryGetValue(categoryId, out var c) ? c
        : throw new KeyNotFoundException($"{Source}: no category with id {categoryId}.");

    /// <summary>Reads a COCO instances json (e.g. <c>instances_val2017.json</c>).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Malformed json or an invalid entry; the message names the file, the entry and the line.</exception>
    public static CocoGroundTruth Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The COCO ground-truth file '{path}' does not exist.", path);
        using var text = File.OpenText(path);
        return Parse(text, path);
    }

    /// <summary>Reads a COCO instances json from <paramref name="text"/>; <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="InvalidDataException">Malformed json or an invalid entry.</exception>
    public static CocoGroundTruth Parse(TextReader text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var images = new List<CocoImage>();
        var categories = new List<CocoCategory>();
        var annotations = new List<CocoAnnotation>();
        bool sawImages = false, sawCategories = false, sawAnnotations = false;
        try
        {
            using var reader = CocoJson.OpenReader(text);
            if (!reader.Read() || reader.TokenType != JsonToken.StartObject)
                throw new InvalidDataException($"{source}: a COCO ground-truth file must hold a JSON object with 'images', 'annotations' and 'categories'.");
            while (reader.Read() && reader.TokenType == JsonToken.PropertyName)
            {
                string name = (string)reader.Value!;
                if (!reader.Read())
                    throw new InvalidDataException($"{source}: the file ends after the property '{name}'.");
                switch (name)
                {
                    case "images":
                        sawImages = true;
                        CocoJson.ReadArray(reader, source, name, (item, i) => images.Add(ParseImage(item, i, source)));
                        break;
                    case "categories":
                        sawCategories = true;
                        CocoJson.ReadArray(reader, source, name, (item, i) => categories.Add(ParseCategory(item, i, source)));
                        break;
                    case "annotations":
                        sawAnnotations = true;
                        CocoJson.ReadArray(reader, source, name, (item, i) => annotations.Add(ParseAnnotation(item, i, source)));
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
            if (reader.TokenType != JsonToken.EndObject)
                throw new InvalidDataException($"{source}: unexpected {reader.TokenType}{CocoJson.Where(reader)}.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{source}: malformed JSON: {ex.Message}", ex);
        }
        if (!sawImages) throw new InvalidDataException($"{source}: the field 'images' is missing.");
        if (!sawCategories) throw new InvalidDataException($"{source}: the field 'categories' is missing.");
        if (!sawAnnotations) throw new InvalidDataException($"{source}: the field 'annotations' is missing.");
        return Create(images, categories, annotations, source);
    }

    /// <summary>
    /// Builds a ground truth from records, checking that ids are unique and that annotations name known images and
    /// categories, boxes and areas are finite with non-negative sizes.
    /// </summary>
    /// <exception cref="InvalidDataException">A record breaks one of those rules; the message names it.</exception>
    public static CocoGroundTruth Create(IEnumerable<CocoImage> images, IEnumerable<CocoCategory> categories, IEnumerable<CocoAnnotation> annotations,
        string source = "ground truth")
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(annotations);
        var imageList = images.ToList();
        var categoryList = categories.ToList();
        var annotationList = annotations.ToList();
        var imageIndex = new Dictionary<long, CocoImage>(imageList.Count);
        for (int i = 0; i < imageList.Count; i++)
            if (!imageIndex.TryAdd(imageList[i].Id, imageList[i]))
                throw new InvalidDataException($"{source}: images[{i}] repeats the image id {imageList[i].Id}.");
        var categoryIndex = new Dictionary<long, CocoCategory>(categoryList.Count);
        for (int i = 0; i < categoryList.Count; i++)
            if (!categoryIndex.TryAdd(categoryList[i].Id, categoryList[i]))
                throw new InvalidDataException($"{source}: categories[{i}] repeats the category id {categoryList[i].Id}.");
        var annotationIds = new HashSet<long>();
        for (int i = 0; i < annotationList.Count; i++)
        {
            var a = annotationList[i];
            string entry = $"annotations[{i}] (id {a.Id})";
            if (!annotationIds.Add(a.Id))
                throw new InvalidDataException($"{source}: {entry} repeats an annotation id.");
            if (!imageIndex.ContainsKey(a.ImageId))
                throw new InvalidDataException($"{source}: {entry} refers to image_id {a.ImageId}, which is not in 'images'.");
            if (!categoryIndex.ContainsKey(a.CategoryId))
                throw new InvalidDataException($"{source}: {entry} refers to category_id {a.CategoryId}, which is not in 'categories'.");
            if (!double.IsFinite(a.X) || !double.IsFinite(a.Y) || !double.IsFinite(a.Width) || !double.IsFinite(a.Height) || a.Width < 0 || a.Height < 0)
                throw new InvalidDataException($"{source}: {entry} has an invalid bbox [{a.X}, {a.Y}, {a.Width}, {a.Height}] (finite [x, y, w, h] with w, h >= 0 expected).");
            if (!double.IsFinite(a.Area) || a.Area < 0)
                throw new InvalidDataException($"{source}: {entry} has an invalid area {a.Area}.");
        }
        return new CocoGroundTruth(source, imageList, categoryList, annotationList, imageIndex, categoryIndex);
    }

    private static CocoImage ParseImage(JToken item, int index, string source)
    {
        string entry = $"images[{index}]";
        var o = CocoJson.AsObject(item, source, entry);
        long id = CocoJson.Integer(o, "id", source, entry);
        int width = o.ContainsKey("width") ? checked((int)CocoJson.Integer(o, "width", source, entry)) : 0;
        int height = o.ContainsKey("height") ? checked((int)CocoJson.Integer(o, "height", source, entry)) : 0;
        string? fileName = o.TryGetValue("file_name", out var f) && f.Type == JTokenType.String ? (string?)f : null;
        return new CocoImage(id, width, height, fileName);
    }

    private static CocoCategory ParseCategory(JToken item, int index, string source)
    {
        string entry = $"categories[{index}]";
        var o = CocoJson.AsObject(item, source, entry);
        long id = CocoJson.Integer(o, "id", source, entry);
        string name = o.TryGetValue("name", out var n) && n.Type == JTokenType.String ? (string)n! : id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new CocoCategory(id, name);
    }

    private static CocoAnnotation ParseAnnotation(JToken item, int index, string source)
    {
        string entry = $"annotations[{index}]";
        var o = CocoJson.AsObject(item, source, entry);
        long id = CocoJson.Integer(o, "id", source, entry);
        entry = $"annotations[{index}] (id {id})";
        long imageId = CocoJson.Integer(o, "image_id", source, entry);
        long categoryId = CocoJson.Integer(o, "category_id", source, entry);
        var (x, y, w, h) = CocoJson.Box(o, "bbox", source, entry);
        double area = CocoJson.Number(o, "area", source, entry);
        if (area < 0) throw CocoJson.Error(source, entry, o["area"], $"'area' must not be negative, found {area}.");
        bool crowd = CocoJson.Flag(o, "iscrowd", source, entry);
        CocoSegmentation? segmentation = o.TryGetValue("segmentation", StringComparison.Ordinal, out var seg) && seg.Type != JTokenType.Null
            ? CocoJson.Segmentation(seg, source, entry)
            : null;
        return new CocoAnnotation(id, imageId, categoryId, x, y, w, h, area, crowd) { Segmentation = segmentation };
    }
}
