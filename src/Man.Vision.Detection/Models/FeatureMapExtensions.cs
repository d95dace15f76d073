using static TorchSharp.torch;

namespace Man.Vision.Detection.Models;

/// <summary>Dispose-scope helpers for dictionaries of feature maps and losses.</summary>
public static class FeatureMapExtensions
{
    /// <summary>Moves every map to the outer dispose scope and returns the dictionary.</summary>
    public static OrderedDictionary<string, Tensor> MoveToOuter(this OrderedDictionary<string, Tensor> maps)
    {
        foreach (var t in maps.Values) t.MoveToOuterDisposeScope();
        return maps;
    }

    /// <summary>Moves every loss to the outer dispose scope and returns the dictionary.</summary>
    public static Dictionary<string, Tensor> MoveToOuter(this Dictionary<string, Tensor> losses)
    {
        foreach (var t in losses.Values) t.MoveToOuterDisposeScope();
        return losses;
    }
}
