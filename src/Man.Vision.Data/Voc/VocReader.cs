using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Images;
using Man.Vision.Data.Records;

namespace Man.Vision.Data.Voc;

/// <summary>
/// Reads PASCAL VOC detection annotations: <c>ImageSets/Main/{split}.txt</c> lists image ids,
/// <c>Annotations/{id}.xml</c> holds size and objects, <c>JPEGImages/</c> the images.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Boxes follow detectron2's VOC loader: VOC's 1-based inclusive <c>xmin..xmax</c> becomes
/// <c>x1 = xmin − 1, y1 = ymin − 1, x2 = xmax, y2 = ymax</c> (so width = xmax − xmin + 1; the VOC evaluator's +1 convention
/// reads the same numbers back as <c>x1 + 1</c>).</item>
/// <item>A size of 0 (or none) is taken from the image header (repair <c>size-from-image</c>); a box reaching past the image
/// is clipped (<c>box-clipped</c>); x2 &lt; x1, a box entirely outside, an unknown class or a malformed file is bad input.</item>
/// <item>The <c>difficult</c> flag is kept on <see cref="ObjectAnnotation.Difficult"/>.</item>
/// <item>When <c>&lt;filename&gt;</c> names no existing file but <c>JPEGImages/{id}.jpg</c> exists, that file is used
/// (repair <c>filename-mismatch</c>).</item>
/// </list>
/// </remarks>
public static class VocReader
{
    /// <summary>Reads the split <paramref name="split"/> (e.g. "train", "trainval", "test") of the VOC root <paramref name="root"/>.</summary>
    /// <exception cref="BadInputException">The split list is missing, or (under <see cref="OnBad.Fail"/>) a file or object is bad.</exception>
    public static DetectionDataset Read(string root, string split, VocReadOptions? options = null)
    {
        options ??= new VocReadOptions();
        var log = new BadInputLog(options.OnBad);
        var ids = ReadSplit(root, Path.Combine("ImageSets", "Main"), split);

        var parsed = new List<ParsedImage>(ids.Count);
        for (int i = 0; i < ids.Count; i++)
        {
            try { parsed.Add(Parse(root, ids[i], log)); }
            catch (BadInputException e) { log.Handle(e); }
        }

        var names = ResolveClasses(root, options.ClassNames, parsed);
        var map = new CategoryMap(names.Select((n, i) => new Category(i + 1, n)));
        var labelByName = names.Select((n, i) => (n, i + 1)).ToDictionary(t => t.n, t => t.Item2, StringComparer.Ordinal);

        var records = new List<ImageRecord>(parsed.Count);
        foreach (var p in parsed)
        {
            var objects = new List<ObjectAnnotation>(p.Objects.Count);
            bool skipImage = false;
            foreach (var o in p.Objects)
            {
                try
                {
                    if (!labelByName.TryGetValue(o.Name, out int label))
                        throw new BadInputException("unknown-category", p.XmlPath, $"line {o.Line}: object class \"{o.Name}\" is not in the class list ({string.Join(", ", names.Take(25))})");
                    if (o.Difficult && !options.KeepDifficult) continue;
                    var box = o.Box;
                    if (!box.IsInside(p.Width, p.Height))
                    {
                        var clipped = box.Clip(p.Width, p.Height);
                        if (clipped.IsDegenerate)
                            throw new BadInputException("invalid-box", p.XmlPath, $"line {o.Line}: box {box} lies outside the {p.Width}x{p.Height} image");
                        log.Repaired("box-clipped", p.XmlPath, $"line {o.Line}: box {box} clipped to {clipped}");
                        box = clipped;
                    }
                    objects.Add(new ObjectAnnotation(box, label, label, false, box.Area) { Difficult = o.Difficult });
                }
                catch (BadInputException e)
                {
                    // An image whose objects cannot all be read would become a wrong sample (a missed object counts
                    // as background): under Skip the whole image is left out.
                    log.Handle(e);
                    skipImage = true;
                    break;
                }
            }
            if (skipImage) continue;
            records.Add(new ImageRecord(records.Count, p.ImagePath, p.Width, p.Height, objects) { Name = p.Id });
        }
        return new DetectionDataset($"voc:{split}", map, records, log);
    }

    /// <summary>The ids listed in <c>{root}/{folder}/{split}.txt</c> (first column; blank lines ignored).</summary>
    /// <exception cref="BadInputException">The list file is missing or empty.</exception>
    public static IReadOnlyList<string> ReadSplit(string root, string folder, string split)
    {
        string list = Path.Combine(root, folder, split + ".txt");
        if (!File.Exists(list))
        {
            string dir = Path.Combine(root, folder);
            string have = Directory.Exists(dir)
                ? string.Join(", ", Directory.GetFiles(dir, "*.txt").Select(Path.GetFileNameWithoutExtension).Where(n => n is not null && !n.Contains('_')).Order())
                : "the folder does not exist";
            throw new BadInputException("missing-split", list, $"the split list does not exist (splits found: {have})");
        }
        var ids = File.ReadLines(list)
            .Select(l => l.Trim())
            .Where(l => l.Length > 0)
            .Select(l => l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0])
            .ToList();
        if (ids.Count == 0) throw new BadInputException("missing-split", list, "the split list is empty");
        return ids;
    }

    private static IReadOnlyList<string> ResolveClasses(string root, IReadOnlyList<string>? given, List<ParsedImage> parsed)
    {
        if (given is not null)
        {
            if (given.Count == 0) throw new ArgumentException("VocReadOptions.ClassNames is empty.");
            return given;
        }
        string labels = Path.Combine(root, VocClasses.LabelsFile);
        if (File.Exists(labels))
        {
            var names = File.ReadLines(labels).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
            if (names.Count == 0) throw new BadInputException("no-categories", labels, "the class list is empty");
            if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
                throw new BadInputException("duplicate-category", labels, "a class name occurs twice");
            return names;
        }
        var found = parsed.SelectMany(p => p.Objects.Select(o => o.Name)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (found.Count > 0 && found.All(n => VocClasses.Names.Contains(n))) return VocClasses.Names;
        if (found.Count == 0) throw new BadInputException("no-categories", root, "no object in the split and no labels.txt: the class list is unknown");
        return found;
    }

    private sealed record ParsedObject(string Name, BoxXyxy Box, bool Difficult, int Line);

    private sealed record ParsedImage(string Id, string XmlPath, string ImagePath, int Width, int Height, List<ParsedObject> Objects);

    private static ParsedImage Parse(string root, string id, BadInputLog log)
    {
        string xmlPath = Path.Combine(root, "Annotations", id + ".xml");
        if (!File.Exists(xmlPath)) throw new BadInputException("missing-annotation", xmlPath, $"image id {id} is listed in the split but its annotation file does not exist");
        XDocument doc;
        try
        {
            doc = XDocument.Load(xmlPath, LoadOptions.SetLineInfo);
        }
        catch (XmlException e)
        {
            throw new BadInputException("malformed-xml", xmlPath, $"line {e.LineNumber}, position {e.LinePosition}: malformed xml ({e.Message})", e);
        }
        var ann = doc.Root;
        if (ann is null || ann.Name.LocalName != "annotation")
            throw new BadInputException("malformed-xml", xmlPath, $"line {Line(ann)}: the root element is <{ann?.Name.LocalName}>, not <annotation>");

        string imagesDir = Path.Combine(root, "JPEGImages");
        string? fileName = ann.Element("filename")?.Value.Trim();
        string imagePath = Path.Combine(imagesDir, string.IsNullOrEmpty(fileName) ? id + ".jpg" : fileName);
        if (!File.Exists(imagePath))
        {
            string byId = Path.Combine(imagesDir, id + ".jpg");
            if (!string.IsNullOrEmpty(fileName) && File.Exists(byId))
            {
                log.Repaired("filename-mismatch", xmlPath, $"<filename>{fileName}</filename> does not exist; {id}.jpg used");
                imagePath = byId;
            }
            else throw new BadInputException("missing-image", imagePath, $"named by {xmlPath} but the image file does not exist");
        }

        var size = ann.Element("size");
        int w = size is null ? 0 : Int(size, "width", xmlPath, required: false);
        int h = size is null ? 0 : Int(size, "height", xmlPath, required: false);
        if (w < 0 || h < 0) throw new BadInputException("invalid-image-size", xmlPath, $"line {Line(size)}: negative image size {w}x{h}");
        if (w == 0 || h == 0)
        {
            var header = ImageDecoder.ReadHeader(imagePath);
            log.Repaired("size-from-image", xmlPath, $"size {w}x{h} replaced by the image's {header.Width}x{header.Height}");
            (w, h) = (header.Width, header.Height);
        }

        var objects = new List<ParsedObject>();
        foreach (var obj in ann.Elements("object"))
        {
            string name = obj.Element("name")?.Value.Trim()
                ?? throw new BadInputException("missing-field", xmlPath, $"line {Line(obj)}: <object> has no <name>");
            var dif = obj.Element("difficult");
            bool difficult = dif is not null && Int(obj, "difficult", xmlPath, required: true) switch
            {
                0 => false,
                1 => true,
                int v => throw new BadInputException("invalid-field", xmlPath, $"line {Line(dif)}: <difficult> is {v}; it must be 0 or 1"),
            };
            var bb = obj.Element("bndbox")
                ?? throw new BadInputException("missing-field", xmlPath, $"line {Line(obj)}: <object> ({name}) has no <bndbox>");
            double xmin = Num(bb, "xmin", xmlPath), ymin = Num(bb, "ymin", xmlPath), xmax = Num(bb, "xmax", xmlPath), ymax = Num(bb, "ymax", xmlPath);
            if (xmax < xmin || ymax < ymin)
                throw new BadInputException("invalid-box", xmlPath, $"line {Line(bb)}: <bndbox> of {name} has xmax < xmin or ymax < ymin ({xmin}, {ymin}, {xmax}, {ymax})");
            objects.Add(new ParsedObject(name, new BoxXyxy(xmin - 1, ymin - 1, xmax, ymax), difficult, Line(obj)));
        }
        return new ParsedImage(id, xmlPath, imagePath, w, h, objects);
    }

    private static int Line(XObject? x) => x is IXmlLineInfo li && li.HasLineInfo() ? li.LineNumber : 0;

    private static double Num(XElement parent, string name, string file)
    {
        var e = parent.Element(name)
            ?? throw new BadInputException("missing-field", file, $"line {Line(parent)}: <{parent.Name.LocalName}> has no <{name}>");
        if (!double.TryParse(e.Value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new BadInputException("invalid-field", file, $"line {Line(e)}: <{name}> is \"{e.Value}\", not a number");
        return v;
    }

    private static int Int(XElement parent, string name, string file, bool required)
    {
        var e = parent.Element(name);
        if (e is null)
            return required ? throw new BadInputException("missing-field", file, $"line {Line(parent)}: <{parent.Name.LocalName}> has no <{name}>") : 0;
        string s = e.Value.Trim();
        if (int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)) return v;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue) return (int)d;
        throw new BadInputException("invalid-field", file, $"line {Line(e)}: <{name}> is \"{e.Value}\", not an integer");
    }
}
