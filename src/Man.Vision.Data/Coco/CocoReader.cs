using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Masks;
using Man.Vision.Data.Records;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Man.Vision.Data.Coco;

/// <summary>
/// Reads COCO instance annotations (<c>instances_*.json</c>) into <see cref="ImageRecord"/>s the way
/// pycocotools and torchvision's COCO reference read them.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Boxes: <c>[x, y, w, h]</c> → xyxy. A box partly outside the image is clipped (repair <c>box-clipped</c>);
/// a box with zero width or height after clipping is dropped as torchvision does (repair <c>empty-box-dropped</c>);
/// a box with negative width/height (x2 &lt; x1) or entirely outside the image is bad input (<c>invalid-box</c>).</item>
/// <item>Categories sorted by id get labels 1..C (<see cref="CategoryMap"/>); an annotation whose category id is not
/// in the list is bad input (<c>unknown-category</c>).</item>
/// <item>Masks: polygon lists and RLE dicts (compressed string or uncompressed counts) are kept as
/// <see cref="MaskAnnotation"/>s; a missing <c>area</c> is computed from the mask (repair <c>area-computed</c>).</item>
/// <item>Images without annotations are kept as negatives. An annotation whose <c>image_id</c> is not in
/// <c>images</c> is bad input (<c>annotation-missing-image</c>); so is a listed image file that does not exist
/// (<c>missing-image</c>, when <see cref="CocoReadOptions.CheckImageFiles"/>).</item>
/// <item>Malformed json fails with the file, line and position; a field of the wrong type names the field path.</item>
/// </list>
/// Under <see cref="OnBad.Skip"/> the bad image or annotation is left out and counted in the log.
/// </remarks>
public static class CocoReader
{
    /// <summary>Reads <paramref name="jsonPath"/>; image files are looked up in <paramref name="imageDir"/>.</summary>
    /// <exception cref="BadInputException">The file is missing or malformed, or (under <see cref="OnBad.Fail"/>) an entry is bad.</exception>
    public static DetectionDataset Read(string jsonPath, string imageDir, CocoReadOptions? options = null)
    {
        options ??= new CocoReadOptions();
        var log = new BadInputLog(options.OnBad);
        if (!File.Exists(jsonPath)) throw new BadInputException("missing-annotations", jsonPath, "the annotation file does not exist");
        if (!Directory.Exists(imageDir)) throw new BadInputException("missing-image-dir", imageDir, "the image folder does not exist");

        JObject root = Load(jsonPath);
        var categories = ReadCategories(root, jsonPath);
        var map = new CategoryMap(categories);

        var images = new List<(long Id, string File, int W, int H)>();
        var imageIndex = new Dictionary<long, int>();
        foreach (var (img, i) in Array(root, "images", jsonPath, required: true).Select((t, i) => (t, i)))
        {
            string where = $"images[{i}]";
            try
            {
                var o = AsObject(img, where, jsonPath);
                long id = Long(o, "id", where, jsonPath);
                string file = Str(o, "file_name", where, jsonPath);
                int w = (int)Long(o, "width", where, jsonPath), h = (int)Long(o, "height", where, jsonPath);
                if (w <= 0 || h <= 0) throw Bad("invalid-image-size", jsonPath, o, $"{where} ({file}) has size {w}x{h}; width and height must be positive");
                if (imageIndex.ContainsKey(id)) throw Bad("duplicate-image-id", jsonPath, o, $"{where} repeats image id {id}");
                string path = Path.Combine(imageDir, file);
                if (options.CheckImageFiles && !File.Exists(path))
                    throw new BadInputException("missing-image", path, $"listed in {Path.GetFileName(jsonPath)} ({where}, image id {id}) but the file does not exist");
                imageIndex[id] = images.Count;
                images.Add((id, file, w, h));
            }
            catch (BadInputException e) { log.Handle(e); }
        }

        var objects = images.Select(_ => new List<ObjectAnnotation>()).ToArray();
        JArray anns = root["annotations"] is null ? [] : Array(root, "annotations", jsonPath, required: true);
        for (int i = 0; i < anns.Count; i++)
        {
            string where = $"annotations[{i}]";
            try
            {
                var o = AsObject(anns[i], where, jsonPath);
                long imageId = Long(o, "image_id", where, jsonPath);
                if (!imageIndex.TryGetValue(imageId, out int imgIdx))
                    throw Bad("annotation-missing-image", jsonPath, o, $"{where} (id {o["id"]}) refers to image id {imageId}, which is not in \"images\"");
                var img = images[imgIdx];
                int catId = (int)Long(o, "category_id", where, jsonPath);
                if (!map.TryGetLabel(catId, out int label))
                    throw Bad("unknown-category", jsonPath, o, $"{where} (id {o["id"]}) has category_id {catId}, which is not in \"categories\"");
                bool crowd = o["iscrowd"] is { } c && c.Type != JTokenType.Null && Long(o, "iscrowd", where, jsonPath) switch
                {
                    0 => false,
                    1 => true,
                    long v => throw Bad("invalid-field", jsonPath, o["iscrowd"]!, $"{where}.iscrowd is {v}; it must be 0 or 1"),
                };
                var bbox = Numbers(o, "bbox", where, jsonPath);
                if (bbox.Length != 4) throw Bad("invalid-box", jsonPath, o["bbox"]!, $"{where}.bbox has {bbox.Length} numbers; COCO boxes are [x, y, w, h]");
                var box = BoxXyxy.FromXywh(bbox[0], bbox[1], bbox[2], bbox[3]);
                if (!double.IsFinite(bbox[0] + bbox[1] + bbox[2] + bbox[3]) || bbox[2] < 0 || bbox[3] < 0)
                    throw Bad("invalid-box", jsonPath, o["bbox"]!, $"{where}.bbox {Fmt(bbox)} of {img.File} has a negative width or height (x2 < x1 or y2 < y1)");
                if (box.IsDegenerate)
                {
                    log.Repaired("empty-box-dropped", jsonPath, $"{where} box {Fmt(bbox)} of {img.File} has no area and is dropped (as torchvision does)");
                    continue;
                }
                if (!box.IsInside(img.W, img.H))
                {
                    var clipped = box.Clip(img.W, img.H);
                    if (clipped.IsDegenerate)
                        throw Bad("invalid-box", jsonPath, o["bbox"]!, $"{where}.bbox {Fmt(bbox)} lies entirely outside the {img.W}x{img.H} image {img.File}");
                    log.Repaired("box-clipped", jsonPath, $"{where} box {box} clipped to {clipped} ({img.W}x{img.H} image {img.File})");
                    box = clipped;
                }

                MaskAnnotation? mask = null;
                if (options.LoadMasks && o["segmentation"] is { Type: not JTokenType.Null } seg)
                    mask = ReadSegmentation(seg, $"{where}.segmentation", jsonPath, img.H, img.W);

                double area;
                if (o["area"] is { Type: JTokenType.Integer or JTokenType.Float } a) area = a.Value<double>();
                else
                {
                    area = mask is not null ? mask.ToRle(img.H, img.W).Area : box.Area;
                    log.Repaired("area-computed", jsonPath, $"{where} has no area; {(mask is not null ? "mask" : "box")} area {area:0.#} used");
                }
                long annId = o["id"] is { Type: JTokenType.Integer } idTok ? idTok.Value<long>() : 0;
                objects[imgIdx].Add(new ObjectAnnotation(box, label, catId, crowd, area, mask) { Id = annId });
            }
            catch (BadInputException e)
            {
                log.Handle(e);
            }
        }

        var records = new List<ImageRecord>(images.Count);
        for (int i = 0; i < images.Count; i++)
        {
            var (id, file, w, h) = images[i];
            records.Add(new ImageRecord(id, Path.Combine(imageDir, file), w, h, objects[i]) { Name = file });
        }
        return new DetectionDataset($"coco:{Path.GetFileNameWithoutExtension(jsonPath)}", map, records, log);
    }

    /// <summary>Reads the categories of a COCO json file only.</summary>
    public static CategoryMap ReadCategories(string jsonPath) => new(ReadCategories(Load(jsonPath), jsonPath));

    private static List<Category> ReadCategories(JObject root, string file)
    {
        var list = new List<Category>();
        var seen = new HashSet<int>();
        foreach (var (t, i) in Array(root, "categories", file, required: true).Select((t, i) => (t, i)))
        {
            string where = $"categories[{i}]";
            var o = AsObject(t, where, file);
            int id = (int)Long(o, "id", where, file);
            string name = Str(o, "name", where, file);
            if (!seen.Add(id)) throw Bad("duplicate-category", file, o, $"{where} repeats category id {id}");
            string super = o["supercategory"]?.Type == JTokenType.String ? o.Value<string>("supercategory")! : "";
            list.Add(new Category(id, name, super));
        }
        if (list.Count == 0) throw Bad("no-categories", file, root, "\"categories\" is empty");
        return list;
    }

    private static MaskAnnotation ReadSegmentation(JToken seg, string where, string file, int h, int w)
    {
        if (seg is JArray polys)
        {
            var list = new List<double[]>(polys.Count);
            for (int p = 0; p < polys.Count; p++)
            {
                if (polys[p] is not JArray poly) throw Bad("invalid-segmentation", file, polys[p], $"{where}[{p}] is not a list of numbers");
                var xy = new double[poly.Count];
                for (int k = 0; k < xy.Length; k++)
                {
                    if (poly[k].Type is not (JTokenType.Integer or JTokenType.Float))
                        throw Bad("invalid-segmentation", file, poly[k], $"{where}[{p}][{k}] is {poly[k].Type}, not a number");
                    xy[k] = poly[k].Value<double>();
                    if (!double.IsFinite(xy[k])) throw Bad("invalid-segmentation", file, poly[k], $"{where}[{p}][{k}] is not finite");
                }
                if (xy.Length % 2 != 0 || (xy.Length < 6 && xy.Length != 4))
                    throw Bad("invalid-segmentation", file, poly, $"{where}[{p}] has {xy.Length} numbers; a polygon needs x,y pairs, at least 3 points");
                list.Add(xy);
            }
            if (list.Count == 0) throw Bad("invalid-segmentation", file, seg, $"{where} is an empty polygon list");
            return new PolygonMask(list);
        }
        if (seg is JObject rle)
        {
            var size = Numbers(rle, "size", where, file);
            if (size.Length != 2) throw Bad("invalid-segmentation", file, rle, $"{where}.size must be [height, width]");
            if ((int)size[0] != h || (int)size[1] != w)
                throw Bad("invalid-segmentation", file, rle, $"{where}.size is [{size[0]}, {size[1]}] but the image is {h}x{w}");
            var counts = rle["counts"];
            try
            {
                if (counts is { Type: JTokenType.String })
                    return new RleMask(Rle.FromCompressedString(counts.Value<string>()!, h, w));
                if (counts is JArray arr)
                {
                    var c = new uint[arr.Count];
                    for (int k = 0; k < c.Length; k++)
                    {
                        if (arr[k].Type != JTokenType.Integer || arr[k].Value<long>() is < 0 or > uint.MaxValue)
                            throw Bad("invalid-segmentation", file, arr[k], $"{where}.counts[{k}] is not a non-negative integer");
                        c[k] = (uint)arr[k].Value<long>();
                    }
                    return new RleMask(new Rle(h, w, c));
                }
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                throw Bad("invalid-segmentation", file, rle, $"{where}.counts: {e.Message}");
            }
            throw Bad("invalid-segmentation", file, rle, $"{where}.counts must be a string or a list of integers");
        }
        throw Bad("invalid-segmentation", file, seg, $"{where} must be a list of polygons or an RLE object, got {seg.Type}");
    }

    internal static JObject Load(string path)
    {
        try
        {
            using var sr = new StreamReader(path);
            using var jr = new JsonTextReader(sr);
            var tok = JToken.ReadFrom(jr, new JsonLoadSettings { LineInfoHandling = LineInfoHandling.Load });
            if (jr.Read() && jr.TokenType != JsonToken.Comment)
                throw new BadInputException("malformed-json", path, $"line {jr.LineNumber}, position {jr.LinePosition}: extra content after the top-level object");
            return tok as JObject ?? throw new BadInputException("malformed-json", path, $"the top level is {tok.Type}, not an object with \"images\", \"annotations\" and \"categories\"");
        }
        catch (JsonReaderException e)
        {
            throw new BadInputException("malformed-json", path, $"line {e.LineNumber}, position {e.LinePosition}: malformed json ({FirstSentence(e.Message)})", e);
        }
    }

    private static string FirstSentence(string m)
    {
        int i = m.IndexOf(". Path", StringComparison.Ordinal);
        return i > 0 ? m[..i] : m.TrimEnd('.');
    }

    private static JArray Array(JObject root, string name, string file, bool required)
    {
        var t = root[name];
        if (t is JArray a) return a;
        if (t is null && !required) return [];
        throw Bad("malformed-json", file, t ?? root, t is null ? $"the field \"{name}\" is missing" : $"the field \"{name}\" is {t.Type}, not a list");
    }

    private static JObject AsObject(JToken t, string where, string file) =>
        t as JObject ?? throw Bad("malformed-json", file, t, $"{where} is {t.Type}, not an object");

    private static long Long(JObject o, string field, string where, string file)
    {
        var t = o[field];
        if (t is null) throw Bad("missing-field", file, o, $"{where} has no \"{field}\"");
        if (t.Type == JTokenType.Integer) return t.Value<long>();
        if (t.Type == JTokenType.Float && t.Value<double>() is double d && d == Math.Floor(d) && Math.Abs(d) < 1e15) return (long)d;
        throw Bad("invalid-field", file, t, $"{where}.{field} is {t.Type} ({t.ToString(Formatting.None)}), not an integer");
    }

    private static string Str(JObject o, string field, string where, string file)
    {
        var t = o[field];
        if (t is null) throw Bad("missing-field", file, o, $"{where} has no \"{field}\"");
        if (t.Type != JTokenType.String || string.IsNullOrEmpty(t.Value<string>()))
            throw Bad("invalid-field", file, t, $"{where}.{field} is {t.Type} ({t.ToString(Formatting.None)}), not a non-empty string");
        return t.Value<string>()!;
    }

    private static double[] Numbers(JObject o, string field, string where, string file)
    {
        var t = o[field];
        if (t is null) throw Bad("missing-field", file, o, $"{where} has no \"{field}\"");
        if (t is not JArray a) throw Bad("invalid-field", file, t, $"{where}.{field} is {t.Type}, not a list of numbers");
        var r = new double[a.Count];
        for (int i = 0; i < r.Length; i++)
        {
            if (a[i].Type is not (JTokenType.Integer or JTokenType.Float))
                throw Bad("invalid-field", file, a[i], $"{where}.{field}[{i}] is {a[i].Type} ({a[i].ToString(Formatting.None)}), not a number");
            r[i] = a[i].Value<double>();
        }
        return r;
    }

    private static string Fmt(double[] v) => "[" + string.Join(", ", v.Select(x => x.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture))) + "]";

    private static BadInputException Bad(string kind, string file, JToken at, string problem)
    {
        string line = at is IJsonLineInfo li && li.HasLineInfo() ? $"line {li.LineNumber}, position {li.LinePosition}: " : "";
        return new BadInputException(kind, file, line + problem);
    }
}
