using TorchSharp;
using static TorchSharp.torch;

namespace Man.Runtime;

/// <summary>Chooses the compute device from the CLI's <c>--device auto|cpu|cuda[:N]</c>.</summary>
public static class Devices
{
    /// <summary>Resolves a device name. "auto" takes CUDA when available, else the CPU.</summary>
    /// <exception cref="ArgumentException">Unknown name, or CUDA asked for where it is not available.</exception>
    public static Device Resolve(string name)
    {
        TorchRuntime.Verify();
        string n = name.Trim().ToLowerInvariant();
        if (n == "auto") return cuda.is_available() ? CUDA : CPU;
        if (n == "cpu") return CPU;
        if (n.StartsWith("cuda", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
                throw new ArgumentException(
                    $"Device '{name}' asked for, but CUDA is not available: this build uses the '{BuildInfo.TorchBackend}' backend " +
                    "(build with -p:TorchBackend=cuda on a machine with an NVIDIA driver) or use --device cpu.");
            return new Device(n);
        }
        throw new ArgumentException($"Unknown device '{name}'. Valid: auto, cpu, cuda, cuda:N.");
    }

    /// <summary>Sets the number of intra-op threads torch uses (0 leaves torch's default).</summary>
    public static void SetThreads(int threads)
    {
        TorchRuntime.Verify();
        if (threads > 0) torch.set_num_threads(threads);
    }
}
