namespace Man.Vision.Data.Loading;

/// <summary>Derives independent 32-bit seeds from a run seed and coordinates (SplitMix64 mixing).</summary>
public static class Seeds
{
    /// <summary>Stream tag of epoch permutations.</summary>
    public const int OrderStream = 1;
    /// <summary>Stream tag of per-sample generators.</summary>
    public const int SampleStream = 2;
    /// <summary>Stream tag of per-batch generators.</summary>
    public const int BatchStream = 3;

    /// <summary>A seed that depends on every argument; equal arguments give equal seeds on every machine.</summary>
    public static int Derive(long seed, int stream, long epoch, long index)
    {
        ulong h = Mix((ulong)seed);
        h = Mix(h ^ (ulong)stream);
        h = Mix(h ^ (ulong)epoch);
        h = Mix(h ^ (ulong)index);
        return (int)(h & 0x7FFFFFFF);
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
