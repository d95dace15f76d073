using SkiaSharp;

namespace Man.Vision.Data.Synthetic;

/// <summary>The shape classes of the synthetic data set and their outlines.</summary>
public static class SyntheticShapes
{
    /// <summary>Class names in label order (label = index + 1; 0 is background).</summary>
    public static IReadOnlyList<string> Names { get; } = ["circle", "square", "triangle", "star", "cross"];

    /// <summary>The outline of class <paramref name="label"/> (1-based), centred at (cx, cy), extent <paramref name="size"/>, rotated by <paramref name="degrees"/>.</summary>
    public static SKPath Outline(int label, float cx, float cy, float size, float degrees)
    {
        var path = new SKPath();
        float r = size / 2;
        switch (label)
        {
            case 1:
                path.AddCircle(cx, cy, r);
                return path;
            case 2:
                float s = r * 0.86f; // a square whose rotated extent stays near `size`
                path.AddRect(new SKRect(cx - s, cy - s, cx + s, cy + s));
                break;
            case 3:
                for (int k = 0; k < 3; k++)
                {
                    double a = -Math.PI / 2 + k * 2 * Math.PI / 3;
                    var p = new SKPoint(cx + r * (float)Math.Cos(a), cy + r * 1.08f * (float)Math.Sin(a) + r * 0.2f);
                    if (k == 0) path.MoveTo(p); else path.LineTo(p);
                }
                path.Close();
                break;
            case 4:
                for (int k = 0; k < 10; k++)
                {
                    double a = -Math.PI / 2 + k * Math.PI / 5;
                    float rr = k % 2 == 0 ? r : r * 0.45f;
                    var p = new SKPoint(cx + rr * (float)Math.Cos(a), cy + rr * (float)Math.Sin(a));
                    if (k == 0) path.MoveTo(p); else path.LineTo(p);
                }
                path.Close();
                break;
            case 5:
                float arm = r * 0.34f;
                path.AddRect(new SKRect(cx - r, cy - arm, cx + r, cy + arm));
                path.AddRect(new SKRect(cx - arm, cy - r, cx + arm, cy + r));
                path = path.Simplify() ?? path;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(label), label, $"Synthetic labels are 1..{Names.Count}.");
        }
        if (degrees != 0) path.Transform(SKMatrix.CreateRotationDegrees(degrees, cx, cy));
        return path;
    }
}
