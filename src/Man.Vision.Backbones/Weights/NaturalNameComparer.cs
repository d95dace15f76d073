namespace Man.Vision.Backbones.Weights;

/// <summary>Orders dotted names with numeric parts compared as numbers (layer1.2 before layer1.10).</summary>
public sealed class NaturalNameComparer : IComparer<string>
{
    /// <summary>The comparer.</summary>
    public static NaturalNameComparer Instance { get; } = new();

    /// <inheritdoc/>
    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        var a = x.Split('.');
        var b = y.Split('.');
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            int c = long.TryParse(a[i], out long na) && long.TryParse(b[i], out long nb)
                ? na.CompareTo(nb)
                : string.CompareOrdinal(a[i], b[i]);
            if (c != 0) return c;
        }
        return a.Length.CompareTo(b.Length);
    }
}
