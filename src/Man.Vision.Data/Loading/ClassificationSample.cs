using static TorchSharp.torch;

namespace Man.Vision.Data.Loading;

/// <summary>One loaded classification sample inside a loader worker (before collation).</summary>
/// <param name="Index">The data set index.</param>
/// <param name="Label">The class index.</param>
/// <param name="Raw">The stored pixels when no per-image transform was needed (null for in-memory sets, read at collation).</param>
/// <param name="Image">The per-image transformed float image [C, S, S] when a resize/crop was applied (freed with the worker's scope).</param>
public sealed record ClassificationSample(int Index, int Label, Classification.LabeledImage? Raw, Tensor? Image);
