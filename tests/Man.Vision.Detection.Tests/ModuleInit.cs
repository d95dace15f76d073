using System.Runtime.CompilerServices;

namespace Man.Vision.Detection.Tests;

internal static class ModuleInit
{
#pragma warning disable CA2255 // Tests may touch torch before any library type.
    [ModuleInitializer]
    internal static void Init()
    {
        Man.Runtime.TorchRuntime.EnsureInitialized();
        // The tests use small tensors: one intra-op thread avoids OpenMP spinning against other processes on the
        // shared 2-core machine (measured: the synthetic training test took 15 s to 280 s with 2 threads under load).
        TorchSharp.torch.set_num_threads(1);
        Man.Runtime.TorchRuntime.GuardConvolutionGradients(); // oneDNN off where its convolutions are not sound on this CPU (see TorchRuntime)
    }
#pragma warning restore CA2255
}
