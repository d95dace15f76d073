using System.Globalization;
using Man.Vision.Data.Records;
using Newtonsoft.Json;

namespace Man.Vision.Data.Coco;

/// <summary>Writes <see cref="DetectionDataset"/>s as COCO instance json that <see cref="CocoReader"/> (and pycocotools) read back.</summary>
public static class CocoWriter
{
    /// <summary>
    /// Writes <paramref name="dataset"/> to <paramref name="jsonPath"/>; <c>file_name</c>s are relative to <paramref name="imageDir"/>.
    /// Polygon masks stay polygons; RLE masks are written as compressed strings (or uncompressed counts when
    /// <paramref name="compressRle"/> is false). Annotation ids are the records' ids, or 1, 2, ... when they are 0.
    /// </summary>
    public static void Write(string jsonPath, DetectionDataset dataset, string imageDir, bool compressRle = true)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(jsonPath))!);
        using var sw = new StreamWriter(jsonPath);
        using var w = new JsonTextWriter(sw) { Formatting = Formatting.None, Culture = CultureInfo.InvariantCulture };
        w.WriteStartObject();
        w.WritePropertyName("info");
        w.WriteStartObject();
        w.WritePropertyName("description");
        w.WriteValue(dataset.Name);
        w.WriteEndObject();

        w.WritePropertyName("images");
        w.WriteStartArray();
        foreach (var img in dataset.Images)
        {
            w.WriteStartObject();
            w.WritePropertyName("id"); w.WriteValue(img.Id);
            w.WritePropertyName("file_name"); w.WriteValue(Path.GetRelativePath(imageDir, img.FilePath).Replace('\\', '/'));
            w.WritePropertyName("width"); w.WriteValue(img.Width);
            w.WritePropertyName("height"); w.WriteValue(img.Height);
            w.WriteEndObject();
        }
        w.WriteEndArray();

        w.WritePropertyName("annotations");
        w.WriteStartArray();
        long nextId = 1;
        foreach (var img in dataset.Images)
        {
            foreach (var o in img.Objects)
            {
                w.WriteStartObject();
                w.WritePropertyName("id"); w.WriteValue(o.Id != 0 ? o.Id : nextId);
                nextId++;
                w.WritePropertyName("image_id"); w.WriteValue(img.Id);
                w.WritePropertyName("category_id"); w.WriteValue(o.CategoryId);
                var (x, y, bw, bh) = o.Box.ToXywh();
                w.WritePropertyName("bbox");
                w.WriteStartArray();
                foreach (var v in new[] { x, y, bw, bh }) w.WriteValue(Math.Round(v, 2));
                w.WriteEndArray();
                w.WritePropertyName("area"); w.WriteValue(o.Area);
                w.WritePropertyName("iscrowd"); w.WriteValue(o.IsCrowd ? 1 : 0);
                if (o.Mask is not null)
                {
                    w.WritePropertyName("segmentation");
                    WriteMask(w, o.Mask, img, compressRle);
                }
                w.WriteEndObject();
            }
        }
        w.WriteEndArray();

        w.WritePropertyName("categories");
        w.WriteStartArray();
        foreach (var c in dataset.Categories.Categories)
        {
            w.WriteStartObject();
            w.WritePropertyName("id"); w.WriteValue(c.Id);
            w.WritePropertyName("name"); w.WriteValue(c.Name);
            w.WritePropertyName("supercategory"); w.WriteValue(c.Supercategory);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteMask(JsonWriter w, MaskAnnotation mask, ImageRecord img, bool compress)
    {
        switch (mask)
        {
            case PolygonMask p:
                w.WriteStartArray();
                foreach (var poly in p.Polygons)
                {
                    w.WriteStartArray();
                    foreach (var v in poly) w.WriteValue(Math.Round(v, 2));
                    w.WriteEndArray();
                }
                w.WriteEndArray();
                break;
            default:
                var rle = mask.ToRle(img.Height, img.Width);
                w.WriteStartObject();
                w.WritePropertyName("size");
                w.WriteStartArray();
                w.WriteValue(rle.Height);
                w.WriteValue(rle.Width);
                w.WriteEndArray();
                w.WritePropertyName("counts");
                if (compress) w.WriteValue(rle.ToCompressedString());
                else
                {
                    w.WriteStartArray();
                    foreach (var c in rle.Counts) w.WriteValue(c);
                    w.WriteEndArray();
                }
                w.WriteEndObject();
                break;
        }
    }
}
