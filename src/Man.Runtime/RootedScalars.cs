using TorchSharp;

namespace Man.Runtime;

/// <summary>
/// Scalars that live for the whole process, for the hottest tensor operations.
/// </summary>
/// <remarks>
/// TorchSharp turns a .NET number into a native <see cref="Scalar"/> whose only owner is a finalizable .NET object; in
/// <c>t.add_(other)</c> (alpha = 1) that object is unreachable once its handle has been passed to native code, so a
/// garbage collection triggered by another thread (a data loader) can finalize it while the native call still reads it.
/// Seen once here as "Expected false to be true … toFloat" in a ResNet's residual add after four epochs of a detection
/// run. Passing a rooted scalar removes that race from the calls that use these.
/// </remarks>
public static class RootedScalars
{
    /// <summary>The scalar 1 (the alpha of a plain addition).</summary>
    public static readonly Scalar One = 1;
}
