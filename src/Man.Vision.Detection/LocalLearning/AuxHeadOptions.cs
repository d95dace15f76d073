using Man.Local;

namespace Man.Vision.Detection.LocalLearning;

/// <summary>
/// Options of the auxiliary detection head of early blocks; each kind builds its own head. The kinds are
/// <see cref="DenseHeadOptions"/> (RetinaNet-style, as the MAN++ detection code) and <see cref="RcnnHeadOptions"/>
/// (a one-level Faster R-CNN: RPN + RoI box head on the block feature).
/// </summary>
public abstract record AuxHeadOptions
{
    /// <summary>The head's name as the CLI and the checkpoint metadata spell it ("dense", "rcnn").</summary>
    public abstract string Kind { get; }

    /// <summary>Builds a head for block features of <paramref name="inChannels"/> channels.</summary>
    /// <param name="inChannels">Channels of the block feature.</param>
    /// <param name="numClasses">Classes including the background.</param>
    public abstract AuxiliaryHead<DetectionTargets> Create(long inChannels, int numClasses);

    /// <summary>
    /// The default options of a head kind: "dense" (pooled to stride <paramref name="minStride"/>) or "rcnn" (at the
    /// block's own stride).
    /// </summary>
    /// <exception cref="ArgumentException">An unknown kind.</exception>
    public static AuxHeadOptions Parse(string kind, int minStride = 16) => kind.Trim().ToLowerInvariant() switch
    {
        "dense" => new DenseHeadOptions { MinStride = minStride },
        "rcnn" => new RcnnHeadOptions(),
        _ => throw new ArgumentException($"Unknown auxiliary detection head '{kind}': use dense (RetinaNet-style) or rcnn (one-level Faster R-CNN)."),
    };
}
