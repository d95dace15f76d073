using Man.Vision.Data.Diagnostics;

namespace Man.Vision.Data.Segmentation;

/// <summary>Reads label pngs into training ids through a <see cref="LabelEncoding"/>.</summary>
/// <remarks>
/// Palette pngs give their indices (never their colours), greyscale pngs their values. An RGB(A) label png is read
/// back to indices through the encoding's palette when it has one (repair <c>rgb-label-to-index</c>), else it is bad
/// input. A stored value the encoding does not define is bad input (<c>label-out-of-range</c>, naming the value, how
/// many pixels and the first position) or, with <c>outOfRangeAsIgnore</c>, becomes 255 (repair <c>label-out-of-range-ignored</c>).
/// </remarks>
public static class LabelReader
{
    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="BadInputException">The png cannot be read, is RGB without a palette to map it, or has values out of range.</exception>
    public static LabelMap Read(string path, LabelEncoding encoding, BadInputLog? log = null, bool outOfRangeAsIgnore = false)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        var png = PngCodec.Read(path);
        int n = png.Width * png.Height;
        var stored = new int[n];
        if (png.IsSingleChannel)
        {
            for (int i = 0; i < n; i++) stored[i] = png.Samples[i];
        }
        else if (png.ColorType == 4)
        {
            for (int i = 0; i < n; i++) stored[i] = png.Samples[2 * i];
            log?.Repaired("alpha-dropped", path, "grey+alpha label png: the alpha channel is ignored");
        }
        else
        {
            if (encoding.PaletteRgb is not { } pal)
                throw new BadInputException("rgb-label", path,
                    $"the label png is {(png.Channels == 4 ? "RGBA" : "RGB")}; {encoding.Name} labels must be palette or greyscale pngs of class values");
            if (png.BitDepth != 8) throw new BadInputException("rgb-label", path, "a 16-bit RGB label png cannot be mapped to palette indices");
            var byColour = new Dictionary<int, int>();
            for (int v = pal.Count / 3 - 1; v >= 0; v--) byColour[pal[3 * v] << 16 | pal[3 * v + 1] << 8 | pal[3 * v + 2]] = v;
            int ch = png.Channels;
            for (int i = 0; i < n; i++)
            {
                int key = png.Samples[ch * i] << 16 | png.Samples[ch * i + 1] << 8 | png.Samples[ch * i + 2];
                stored[i] = byColour.TryGetValue(key, out int v) ? v : 256 + (key & 0xFFFFFF);
            }
            log?.Repaired("rgb-label-to-index", path, $"RGB label png mapped to {encoding.Name} palette indices");
        }

        var ids = new byte[n];
        int bad = 0, firstBad = -1, firstValue = 0;
        var badValues = new SortedSet<int>();
        for (int i = 0; i < n; i++)
        {
            int t = encoding.Map(stored[i]);
            if (t == LabelEncoding.Invalid)
            {
                if (bad++ == 0) { firstBad = i; firstValue = stored[i]; }
                if (badValues.Count < 8) badValues.Add(stored[i]);
                t = LabelEncoding.Ignore;
            }
            ids[i] = (byte)t;
        }
        if (bad > 0)
        {
            string values = string.Join(", ", badValues.Select(v => v >= 256 ? $"rgb#{v - 256:X6}" : v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            string problem = $"{bad} pixel(s) have label values out of range ({values}; first {Describe(firstValue)} at x={firstBad % png.Width}, y={firstBad / png.Width}); " +
                             $"{encoding.Name} defines {DescribeValid(encoding)}";
            if (!outOfRangeAsIgnore) throw new BadInputException("label-out-of-range", path, problem);
            log?.Repaired("label-out-of-range-ignored", path, problem + "; set to 255 (ignore)");
        }
        return new LabelMap(png.Width, png.Height, ids);
    }

    private static string Describe(int v) => v >= 256 ? $"colour #{v - 256:X6}" : $"value {v}";

    private static string DescribeValid(LabelEncoding e)
    {
        var valid = Enumerable.Range(0, 256).Where(v => e.Map(v) != LabelEncoding.Invalid).ToArray();
        var runs = new List<string>();
        for (int i = 0; i < valid.Length;)
        {
            int j = i;
            while (j + 1 < valid.Length && valid[j + 1] == valid[j] + 1) j++;
            runs.Add(i == j ? $"{valid[i]}" : $"{valid[i]}..{valid[j]}");
            i = j + 1;
        }
        return "values " + string.Join(", ", runs);
    }
}
