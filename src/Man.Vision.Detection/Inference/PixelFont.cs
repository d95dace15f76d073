using SkiaSharp;

namespace Man.Vision.Detection.Inference;

/// <summary>
/// A 3×5 pixel font (digits, a–z, space and <c>. : - _ % ? ( ) /</c>; capitals drawn as small letters) for machines
/// without any usable typeface.
/// </summary>
internal static class PixelFont
{
    /// <summary>Glyph height in font pixels.</summary>
    public const int Height = 5;

    // Five rows per glyph, three bits per row (4 = left column, 2 = middle, 1 = right).
    private static readonly Dictionary<char, byte[]> Glyphs = new()
    {
        ['0'] = [7, 5, 5, 5, 7], ['1'] = [2, 6, 2, 2, 7], ['2'] = [7, 1, 7, 4, 7], ['3'] = [7, 1, 7, 1, 7], ['4'] = [5, 5, 7, 1, 1],
        ['5'] = [7, 4, 7, 1, 7], ['6'] = [7, 4, 7, 5, 7], ['7'] = [7, 1, 1, 1, 1], ['8'] = [7, 5, 7, 5, 7], ['9'] = [7, 5, 7, 1, 7],
        ['a'] = [2, 5, 7, 5, 5], ['b'] = [6, 5, 6, 5, 6], ['c'] = [3, 4, 4, 4, 3], ['d'] = [6, 5, 5, 5, 6], ['e'] = [7, 4, 6, 4, 7],
        ['f'] = [7, 4, 6, 4, 4], ['g'] = [3, 4, 5, 5, 3], ['h'] = [5, 5, 7, 5, 5], ['i'] = [7, 2, 2, 2, 7], ['j'] = [1, 1, 1, 5, 2],
        ['k'] = [5, 5, 6, 5, 5], ['l'] = [4, 4, 4, 4, 7], ['m'] = [5, 7, 7, 5, 5], ['n'] = [6, 5, 5, 5, 5], ['o'] = [2, 5, 5, 5, 2],
        ['p'] = [6, 5, 6, 4, 4], ['q'] = [2, 5, 5, 6, 3], ['r'] = [6, 5, 6, 5, 5], ['s'] = [3, 4, 2, 1, 6], ['t'] = [7, 2, 2, 2, 2],
        ['u'] = [5, 5, 5, 5, 7], ['v'] = [5, 5, 5, 5, 2], ['w'] = [5, 5, 7, 7, 5], ['x'] = [5, 5, 2, 5, 5], ['y'] = [5, 5, 2, 2, 2],
        ['z'] = [7, 1, 2, 4, 7], [' '] = [0, 0, 0, 0, 0], ['.'] = [0, 0, 0, 0, 2], [':'] = [0, 2, 0, 2, 0], ['-'] = [0, 0, 7, 0, 0],
        ['_'] = [0, 0, 0, 0, 7], ['%'] = [5, 1, 2, 4, 5], ['?'] = [7, 1, 2, 0, 2], ['('] = [1, 2, 2, 2, 1], [')'] = [4, 2, 2, 2, 4],
        ['/'] = [1, 1, 2, 4, 4],
    };

    /// <summary>Width of <paramref name="text"/> in font pixels (3 per glyph plus 1 of spacing).</summary>
    public static int Width(string text) => Math.Max(0, text.Length * 4 - 1);

    /// <summary>Draws <paramref name="text"/> with its top-left corner at (x, y), each font pixel a square of <paramref name="pixel"/>.</summary>
    public static void Draw(SKCanvas canvas, string text, float x, float y, int pixel, SKPaint paint)
    {
        foreach (char raw in text)
        {
            char c = char.ToLowerInvariant(raw);
            var rows = Glyphs.TryGetValue(c, out var g) ? g : Glyphs['?'];
            for (int r = 0; r < Height; r++)
                for (int col = 0; col < 3; col++)
                    if ((rows[r] & (4 >> col)) != 0)
                        canvas.DrawRect(new SKRect(x + col * pixel, y + r * pixel, x + (col + 1) * pixel, y + (r + 1) * pixel), paint);
            x += 4 * pixel;
        }
    }
}
