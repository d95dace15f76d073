using System.Runtime.CompilerServices;

namespace Man.Vision.Backbones.Tests;

internal static class ModuleInit
{
#pragma warning disable CA2255 // Tests may touch torch before any library type.
    [ModuleInitializer]
    internal static void Init()
    {
        Man.Runtime.TorchRuntime.EnsureInitialized();
        Man.Runtime.TorchRuntime.GuardConvolutionGradients(); // zero-filled allocations where convolution gradients need them
    }
#pragma warning restore CA2255
}
