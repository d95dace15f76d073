using System.Runtime.CompilerServices;

namespace Man.Vision.Classification;

internal static class ModuleInit
{
#pragma warning disable CA2255 // Every consumer of the library gets the native loader without a call of its own.
    [ModuleInitializer]
    internal static void Init()
    {
        Man.Runtime.TorchRuntime.EnsureInitialized();
        Man.Runtime.TorchRuntime.GuardConvolutionGradients(); // oneDNN off where its convolutions are not sound on this CPU (see TorchRuntime)
    }
#pragma warning restore CA2255
}
