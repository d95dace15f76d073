namespace Man.Local;

/// <summary>How the blocks of a split model learn.</summary>
public enum LocalMethod
{
    /// <summary>Plain backpropagation through the whole model (K = 1).</summary>
    E2E,

    /// <summary>DGL-style greedy local learning: the auxiliary head alone on the block's output.</summary>
    Greedy,

    /// <summary>InfoPro-style: the auxiliary head plus a reconstruction decoder to the input (BCE), λ-weighted.</summary>
    InfoPro,

    /// <summary>MAN: y = LB(h) + EMA(h), then the auxiliary head.</summary>
    Man,

    /// <summary>MAN++: y = s·LB(h) + (2−s)·EMA(h) with a learnable scalar s (initialised to 1).</summary>
    ManPlusPlus,
}

/// <summary>Parsing and naming of <see cref="LocalMethod"/> as the CLI spells it.</summary>
public static class LocalMethods
{
    /// <summary>The CLI names, in enum order.</summary>
    public static readonly IReadOnlyList<string> Names = ["e2e", "greedy", "infopro", "man", "manpp"];

    /// <summary>The CLI name of a method.</summary>
    public static string Name(this LocalMethod method) => Names[(int)method];

    /// <summary>Parses a CLI name (case-insensitive; "man++" is accepted for manpp).</summary>
    /// <exception cref="ArgumentException">The name is not one of <see cref="Names"/>.</exception>
    public static LocalMethod Parse(string name)
    {
        string n = name.Trim().ToLowerInvariant();
        if (n == "man++") n = "manpp";
        int i = Names.ToList().IndexOf(n);
        if (i < 0)
            throw new ArgumentException($"Unknown method '{name}'. Valid methods: {string.Join(", ", Names)}.", nameof(name));
        return (LocalMethod)i;
    }
}
