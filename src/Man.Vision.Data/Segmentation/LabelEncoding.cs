namespace Man.Vision.Data.Segmentation;

/// <summary>
/// How stored label values become training ids: a table over the 256 possible byte values giving the class
/// (0..C−1), <see cref="Ignore"/> (255), or <see cref="Invalid"/> for a value the data set never uses
/// (a value out of range, bad input).
/// </summary>
public sealed class LabelEncoding
{
    /// <summary>The training id of pixels that count for nothing (mmsegmentation's and torchvision's 255).</summary>
    public const byte Ignore = 255;

    /// <summary>Marks a stored value the data set does not define.</summary>
    public const int Invalid = -1;

    private readonly int[] _table;

    /// <summary>Creates an encoding from a table of 256 entries (class id, 255, or <see cref="Invalid"/>).</summary>
    /// <exception cref="ArgumentException">The table is not 256 long or an entry is outside −1..C−1 and not 255.</exception>
    public LabelEncoding(string name, IReadOnlyList<string> classNames, IReadOnlyList<int> table, IReadOnlyList<byte>? paletteRgb = null)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(table);
        if (table.Count != 256) throw new ArgumentException($"A label table has 256 entries, got {table.Count}.", nameof(table));
        if (classNames.Count is 0 or > 255) throw new ArgumentException($"A label encoding needs 1..255 classes, got {classNames.Count}.", nameof(classNames));
        for (int v = 0; v < 256; v++)
            if (table[v] != Invalid && table[v] != Ignore && (table[v] < 0 || table[v] >= classNames.Count))
                throw new ArgumentException($"Label table entry {v} maps to {table[v]}, outside 0..{classNames.Count - 1}, 255 and -1.", nameof(table));
        Name = name;
        ClassNames = classNames.ToArray();
        _table = table.ToArray();
        PaletteRgb = paletteRgb?.ToArray();
    }

    /// <summary>A short name ("voc", "camvid", "cityscapes", ...).</summary>
    public string Name { get; }

    /// <summary>The class names by training id.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The number of classes C.</summary>
    public int NumClasses => ClassNames.Count;

    /// <summary>The palette (RGB triples by stored value) used to read RGB label pngs back to indices, null when unknown.</summary>
    public IReadOnlyList<byte>? PaletteRgb { get; }

    /// <summary>The training id of a stored value, 255, or <see cref="Invalid"/>.</summary>
    public int Map(int stored) => stored is >= 0 and < 256 ? _table[stored] : Invalid;

    /// <summary>
    /// Identity for values 0..C−1, 255 (and the values in <paramref name="ignored"/>) → ignore, every other value invalid.
    /// </summary>
    public static LabelEncoding Identity(string name, IReadOnlyList<string> classNames, IEnumerable<int>? ignored = null, IReadOnlyList<byte>? paletteRgb = null)
    {
        var t = Enumerable.Repeat(Invalid, 256).ToArray();
        for (int v = 0; v < classNames.Count; v++) t[v] = v;
        t[Ignore] = Ignore;
        foreach (int v in ignored ?? []) t[v] = Ignore;
        return new LabelEncoding(name, classNames, t, paletteRgb);
    }

    /// <summary>PASCAL VOC SegmentationClass: 21 classes (background + 20), 255 = border/ignore, VOC palette.</summary>
    public static LabelEncoding Voc { get; } = Identity("voc", ["background", .. Man.Vision.Data.Voc.VocClasses.Names], paletteRgb: VocPalette(256));

    /// <summary>CamVid (SegNet layout): 11 classes, value 11 (void) → ignore.</summary>
    public static LabelEncoding CamVid { get; } = Identity("camvid",
        ["Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car", "Pedestrian", "Bicyclist"], ignored: [11]);

    /// <summary>Cityscapes <c>gtFine_labelIds</c> → the 19 training ids (cityscapesScripts' <c>labels.py</c>); other ids → ignore.</summary>
    public static LabelEncoding Cityscapes { get; } = BuildCityscapes();

    /// <summary>The standard VOC colour map (bit-interleaved), <paramref name="count"/> RGB triples.</summary>
    public static byte[] VocPalette(int count)
    {
        var p = new byte[count * 3];
        for (int i = 0; i < count; i++)
        {
            int r = 0, g = 0, b = 0, c = i;
            for (int j = 0; j < 8; j++)
            {
                r |= ((c >> 0) & 1) << (7 - j);
                g |= ((c >> 1) & 1) << (7 - j);
                b |= ((c >> 2) & 1) << (7 - j);
                c >>= 3;
            }
            p[3 * i] = (byte)r;
            p[3 * i + 1] = (byte)g;
            p[3 * i + 2] = (byte)b;
        }
        return p;
    }

    private static LabelEncoding BuildCityscapes()
    {
        // labelId → trainId for ids 0..33 (cityscapesScripts), 255 where the class is not trained.
        int[] trainIdOfLabelId =
        [
            255, 255, 255, 255, 255, 255, 255, 0, 1, 255, 255, 2, 3, 4, 255, 255, 255, 5, 255, 6,
            7, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 16, 17, 18,
        ];
        var t = Enumerable.Repeat(Invalid, 256).ToArray();
        for (int id = 0; id < trainIdOfLabelId.Length; id++) t[id] = trainIdOfLabelId[id];
        t[Ignore] = Ignore;
        return new LabelEncoding("cityscapes",
            ["road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign", "vegetation", "terrain",
             "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle"], t);
    }
}
