using Man.Vision.Data.Masks;
namespace Man.Vision.Detection.Evaluation;

/// <summary>
/// The <c>segmentation</c> of a COCO annotation: polygons, or a run-length encoded mask (compressed or not). Turned
/// into an <see cref="Rle"/> as pycocotools' <c>annToRLE</c> does when masks are evaluated.
/// </summary>
public sealed class CocoSegmentation
{
    private readonly IReadOnlyList<double[]>? _polygons;
    private readonly Rle? _rle;
    private readonly string? _problem;

    private CocoSegmentation(IReadOnlyList<double[]>? polygons, Rle? rle, string? problem)
    {
        _polygons = polygons;
        _rle = rle;
        _problem = problem;
    }

    /// <summary>Polygons <c>[[x0, y0, x1, y1, …], …]</c> in pixels.</summary>
    public static CocoSegmentation FromPolygons(IReadOnlyList<double[]> polygons)
    {
        ArgumentNullException.ThrowIfNull(polygons);
        return new(polygons, null, null);
    }

    /// <summary>A run-length encoded mask (its own size is used, as in pycocotools).</summary>
    public static CocoSegmentation FromRle(Rle rle)
    {
        ArgumentNullException.ThrowIfNull(rle);
        return new(null, rle, null);
    }

    /// <summary>A segmentation that could not be read; evaluating masks with it fails with <paramref name="problem"/>.</summary>
    internal static CocoSegmentation Invalid(string problem) => new(null, null, problem);

    /// <summary>The polygons, or null for a mask.</summary>
    public IReadOnlyList<double[]>? Polygons => _polygons;

    /// <summary>The mask, or null for polygons.</summary>
    public Rle? Mask => _rle;

    /// <summary>
    /// The mask of the annotation in an image of <paramref name="height"/>×<paramref name="width"/>: polygons are
    /// rasterised (<c>rleFrPoly</c>) and merged; as in pycocotools' <c>frPyObjects</c>, when the first "polygon" has
    /// exactly four numbers all of them are read as <c>[x, y, w, h]</c> boxes.
    /// </summary>
    /// <exception cref="InvalidDataException">The segmentation could not be read or is not a valid polygon list.</exception>
    public Rle ToRle(int height, int width)
    {
        if (_problem is not null) throw new InvalidDataException(_problem);
        if (_rle is not null) return _rle;
        var polygons = _polygons!;
        if (polygons.Count == 0) throw new InvalidDataException("The segmentation is an empty polygon list.");
        bool boxes = polygons[0].Length == 4;
        var rles = new Rle[polygons.Count];
        for (int i = 0; i < polygons.Count; i++)
        {
            var p = polygons[i];
            if (boxes)
            {
                if (p.Length != 4)
                    throw new InvalidDataException($"The segmentation mixes boxes (4 numbers) and polygons ({p.Length} numbers in polygon {i}).");
                rles[i] = PolygonRasterizer.FromBbox(p[0], p[1], p[2], p[3], height, width);
            }
            else
            {
                if (p.Length < 6 || p.Length % 2 != 0)
                    throw new InvalidDataException($"Polygon {i} of the segmentation has {p.Length} numbers; an even count of at least 6 (3 points) is needed.");
                rles[i] = PolygonRasterizer.ToRle(p, height, width);
            }
        }
        return Rle.Merge(rles);
    }
}
