using System.Runtime.CompilerServices;

namespace Man.Vision.Classification.Tests;

internal static class ModuleInit
{
#pragma warning disable CA2255 // Tests may touch torch before any library type.
    [ModuleInitializer]
    internal static void Init()
    {
        Man.Runtime.TorchRuntime.EnsureInitialized();
        Man.Runtime.TorchRuntime.GuardConvolutionGradients(); // oneDNN off where its convolutions are not sound on this CPU (see TorchRuntime)
    }
#pragma warning restore CA2255
}
