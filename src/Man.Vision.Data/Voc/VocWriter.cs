using System.Globalization;
using System.Xml.Linq;
using Man.Vision.Data.Records;

namespace Man.Vision.Data.Voc;

/// <summary>Writes VOC annotation xml files that <see cref="VocReader"/> reads back.</summary>
public static class VocWriter
{
    /// <summary>
    /// Writes <c>{root}/Annotations/{record.Name}.xml</c>. Boxes are written in VOC's 1-based convention, the inverse of
    /// <see cref="VocReader"/>: <c>xmin = x1 + 1, ymin = y1 + 1, xmax = x2, ymax = y2</c>.
    /// </summary>
    public static void WriteAnnotation(string root, ImageRecord record, CategoryMap categories)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(categories);
        string dir = Path.Combine(root, "Annotations");
        Directory.CreateDirectory(dir);
        static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        var doc = new XElement("annotation",
            new XElement("folder", "JPEGImages"),
            new XElement("filename", Path.GetFileName(record.FilePath)),
            new XElement("size",
                new XElement("width", record.Width),
                new XElement("height", record.Height),
                new XElement("depth", 3)),
            new XElement("segmented", 0),
            record.Objects.Select(o => new XElement("object",
                new XElement("name", categories.NameOf(o.Label)),
                new XElement("pose", "Unspecified"),
                new XElement("truncated", 0),
                new XElement("difficult", o.Difficult ? 1 : 0),
                new XElement("bndbox",
                    new XElement("xmin", F(o.Box.X1 + 1)),
                    new XElement("ymin", F(o.Box.Y1 + 1)),
                    new XElement("xmax", F(o.Box.X2)),
                    new XElement("ymax", F(o.Box.Y2))))));
        doc.Save(Path.Combine(dir, record.Name + ".xml"));
    }

    /// <summary>Writes a split list <c>{root}/{folder}/{split}.txt</c>, one id per line.</summary>
    public static void WriteSplit(string root, string folder, string split, IEnumerable<string> ids)
    {
        string dir = Path.Combine(root, folder);
        Directory.CreateDirectory(dir);
        File.WriteAllLines(Path.Combine(dir, split + ".txt"), ids);
    }
}
