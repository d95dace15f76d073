using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using TorchSharp;
using Tensor = TorchSharp.torch.Tensor;

namespace Man.Runtime;

/// <summary>
/// Makes TorchSharp's native libraries load on Linux systems whose libstdc++ is older than the one
/// libLibTorchSharp.so was built against (Debian 12, Ubuntu 22.04: GLIBCXX_3.4.30 where 3.4.32 is asked).
/// </summary>
/// <remarks>
/// The only GLIBCXX_3.4.32 requirement of libLibTorchSharp 0.107 is a marker symbol that no relocation
/// uses. Where the library does not load as it is, a copy of it (never the package itself) gets that
/// version requirement marked weak, and libc10, libtorch_cpu, libtorch and the copy are loaded before
/// TorchSharp initialises, so that its own lookup finds them already in the process. Where libstdc++ is
/// new enough, or on other operating systems, nothing is done. Every assembly of Man.Vision calls
/// <see cref="EnsureInitialized"/> from its module initializer; programs that touch <c>torch</c> before
/// any Man.Vision type may call it themselves first.
/// </remarks>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _initialized;

    /// <summary>What <see cref="EnsureInitialized"/> did, for <c>man-vision info</c>.</summary>
    public static string Status { get; private set; } = "not initialised";

    /// <summary>The directory the native TorchSharp libraries were found in, if any.</summary>
    public static string? NativeDirectory { get; private set; }

    /// <summary>What was done about NNPACK (see <see cref="DisableNnpack"/>), for <c>man-vision info</c>.</summary>
    public static string Nnpack { get; private set; } = "left as libtorch sets it";

    private static IntPtr _torchCpu;
    private static IntPtr _c10;

    /// <summary>What <see cref="GuardConvolutionGradients"/> found, for <c>man-vision info</c> and run logs.</summary>
    public static string ConvolutionGuard { get; private set; } = "not checked yet (checked before anything trains)";

    private static int _guarded;
    private static bool _guardTurnedOneDnnOff;

    /// <summary>
    /// Checks once per process whether oneDNN's convolution gradients on this CPU are sound (finite and equal to ATen's on
    /// memory no kernel wrote yet), and where not turns oneDNN off (convolutions then run ATen's own kernels). Returns
    /// true when it turned oneDNN off.
    /// </summary>
    /// <remarks>
    /// With c10's junk fill on (every fresh CPU allocation filled with a NaN pattern), fourteen small convolutions (3×3,
    /// 1×1 and 7×7, stride 1 and 2, channel counts that fill oneDNN's SIMD blocks and ones that leave them padded) run
    /// forward and backward with oneDNN and again with ATen's own kernels on the same inputs; a non-finite output or
    /// gradient, or one that differs from ATen's (beyond 1e-4 of its scale), fails the check.
    /// Measured on AMD EPYC (AVX-512) with libtorch 2.10: oneDNN's backward-data kernels gave NaN input gradients in 40
    /// of 40 junk-filled toy local-learning steps and NaN or wrong ones in 3–9 of 40 plain steps; capped to AVX2 or AVX
    /// the results were finite but wrong (a 12→12-channel stride-2 convolution's output; a toy network's gradients off by
    /// as much as their own magnitude), which the comparison catches; capped to SSE4.1 they were right. Zero-filling
    /// allocations did not remove the wrong values; ATen's own convolution did. The price there, ResNet-32 step, batch 128, 2 threads: 0.35–0.6 s with the unsound kernels, ATen's
    /// 2.5–2.7 s with the CLI's lean allocator (3.6–4.0 s with glibc's default policy), oneDNN capped to SSE4.1 2.9–3.0 s
    /// (1.6–1.75 s with glibc's default policy). A cap set before the program starts (<c>ONEDNN_MAX_CPU_ISA</c>, which
    /// oneDNN reads once) is judged by the check like any other kernels. The module initializers of Man.Local and the
    /// Man.Vision model libraries call this (once per process, whichever comes first); <c>MAN_ONEDNN=on</c> keeps oneDNN
    /// without the check (fast, and wrong where the check would fail), <c>MAN_ONEDNN=off</c> turns it off everywhere.
    /// </remarks>
    public static bool GuardConvolutionGradients()
    {
        EnsureInitialized();
        if (Interlocked.Exchange(ref _guarded, 1) == 1) return _guardTurnedOneDnnOff;
        string? policy = Environment.GetEnvironmentVariable("MAN_ONEDNN")?.Trim().ToLowerInvariant();
        if (policy is "on" or "1")
        {
            ConvolutionGuard = "not checked (MAN_ONEDNN=on)";
            return false;
        }
        if (OneDnnEnabled() != true)
        {
            ConvolutionGuard = "not checked (oneDNN is off)";
            return false;
        }
        if (ZeroFillEnabled() == true || !JunkFillAllocations(true))
        {
            ConvolutionGuard = "not checked (libc10's junk-fill flag not usable)";
            return false;
        }
        bool sound;
        try
        {
            sound = ConvolutionGradientsAreSound();
        }
        finally
        {
            JunkFillAllocations(false);
        }
        if (sound)
        {
            ConvolutionGuard = "checked: oneDNN's convolution gradients equal ATen's on junk-filled memory" + (_isaCap is null ? "" : $" (ISA capped to {_isaCap})");
            return false;
        }
        SetOneDnn(false);
        _guardTurnedOneDnnOff = true;
        OneDnn = "off (the convolution check failed" + (_isaCap is null ? "" : $" with the ISA capped to {_isaCap}") + "; MAN_ONEDNN=on keeps it)";
        ConvolutionGuard = $"oneDNN's convolution gradients on this CPU differ from ATen's on junk-filled memory (first: {FirstUnsoundConvolution}): " +
            "oneDNN off, ATen's convolutions used (slower, exact)";
        return true;
    }

    /// <summary>oneDNN's ISA as the program started it (<c>ONEDNN_MAX_CPU_ISA</c>, which oneDNN reads once, at its first use), for <c>man-vision info</c>.</summary>
    public static string OneDnnIsa => _isaCap is null ? "oneDNN's own choice (ONEDNN_MAX_CPU_ISA not set)" : $"capped to {_isaCap} (ONEDNN_MAX_CPU_ISA)";

    private static readonly string? _isaCap = Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") is { Length: > 0 } isa ? isa.Trim().ToUpperInvariant() : null;

    /// <summary>
    /// Runs the check's convolutions forward and backward with oneDNN as it is and again with ATen's own kernels (oneDNN
    /// off for the moment) on the same inputs; sound when every output and gradient of the first is finite and equals the second's
    /// (relative 1e-4 of the gradient's scale). <see cref="FirstUnsoundConvolution"/> names the first case that was not.
    /// </summary>
    private static bool ConvolutionGradientsAreSound()
    {
        using var scope = torch.NewDisposeScope();
        using var grad = torch.enable_grad();
        var generator = new torch.Generator(12345);
        // Channel counts that fill oneDNN's SIMD blocks (16, 32, 64, 128) and ones that leave them padded (3, 5, 8, 12, 24),
        // as inputs and as outputs (a classifier's or decoder's few output channels propagate their gradient back).
        (long In, long Out, long Kernel, long Stride, long Size)[] cases =
            [(8, 8, 3, 1, 8), (8, 8, 3, 2, 16), (16, 32, 1, 2, 16), (3, 16, 7, 2, 32), (32, 32, 3, 1, 16), (64, 64, 1, 1, 8),
             (64, 128, 3, 2, 16), (5, 12, 3, 1, 8), (8, 12, 3, 1, 8), (12, 12, 3, 2, 8), (12, 16, 3, 1, 8), (16, 3, 3, 1, 16), (24, 24, 3, 1, 8), (32, 5, 1, 1, 8)];
        foreach (var (cin, cout, kernel, stride, size) in cases)
        {
            var x = torch.randn([8, cin, size, size], generator: generator);
            var w = torch.randn([cout, cin, kernel, kernel], generator: generator) * 0.1;
            long outSize = (size + 2 * (kernel / 2) - kernel) / stride + 1;
            var g = torch.randn([8, cout, outSize, outSize], generator: generator);
            var (y, dx, dw) = Gradients(x, w, g, stride, kernel);
            bool was = OneDnnEnabled() ?? true;
            SetOneDnn(false);
            Tensor ry, rx, rw;
            try
            {
                (ry, rx, rw) = Gradients(x, w, g, stride, kernel);
            }
            finally
            {
                SetOneDnn(was);
            }
            if (!Agrees(y, ry) || !Agrees(dx, rx) || !Agrees(dw, rw))
            {
                FirstUnsoundConvolution = $"{cin}→{cout} channels, {kernel}×{kernel} stride {stride}, {size}²";
                return false;
            }
        }
        return true;

        static (Tensor Y, Tensor Dx, Tensor Dw) Gradients(Tensor x0, Tensor w0, Tensor g, long stride, long kernel)
        {
            var x = x0.detach().requires_grad_(true);
            var w = w0.detach().requires_grad_(true);
            var y = torch.nn.functional.conv2d(x, w, strides: [stride, stride], padding: [kernel / 2, kernel / 2]);
            y.backward([g]);
            return (y.detach(), x.grad!, w.grad!);
        }

        static bool Agrees(Tensor a, Tensor reference)
        {
            if (!a.isfinite().all().item<bool>()) return false;
            double scale = reference.abs().max().item<float>();
            return (a - reference).abs().max().item<float>() <= 1e-4 * Math.Max(scale, 1e-3);
        }
    }

    /// <summary>The first of the check's convolutions whose oneDNN gradients were not sound, or null.</summary>
    public static string? FirstUnsoundConvolution { get; private set; }

    private static bool? ZeroFillEnabled() =>
        _c10 != IntPtr.Zero && NativeLibrary.TryGetExport(_c10, "FLAGS_caffe2_cpu_allocator_do_zero_fill", out var flag)
            ? Marshal.ReadByte(flag) != 0
            : null;

    /// <summary>c10's junk fill (<c>caffe2_cpu_allocator_do_junk_fill</c>): every CPU allocation filled with a NaN-like pattern, to expose reads of memory no kernel wrote. For tests.</summary>
    public static bool JunkFillAllocations(bool enabled)
    {
        if (_c10 == IntPtr.Zero || !NativeLibrary.TryGetExport(_c10, "FLAGS_caffe2_cpu_allocator_do_junk_fill", out var flag)) return false;
        Marshal.WriteByte(flag, enabled ? (byte)1 : (byte)0);
        return true;
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr GlobalContextFn();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void SetFlagFn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    [return: MarshalAs(UnmanagedType.U1)]
    private delegate bool GetFlagFn(IntPtr context);

    /// <summary>Prepares native loading once per process. Safe to call from any thread, any number of times.</summary>
    public static void EnsureInitialized()
    {
        if (_initialized) return;
        lock (Gate)
        {
            if (_initialized) return;
            try
            {
                Status = Prepare();
            }
            finally
            {
                _initialized = true;
            }
        }
    }

    /// <summary>Initialises torch and returns it, or throws an exception that says what to do.</summary>
    public static void Verify()
    {
        EnsureInitialized();
        try
        {
            using var t = torch.zeros(1);
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException)
        {
            throw new InvalidOperationException(
                "TorchSharp's native libraries failed to load (" + Status + "). " +
                "Check that the libtorch package matching TorchSharp 0.107 (libtorch-cpu-linux-x64 2.10, or " +
                "TorchSharp-cuda-linux with -p:TorchBackend=cuda) was restored next to the program, that libgomp/libstdc++ " +
                "are installed (apt-get install libstdc++6 libgomp1), and set MAN_NATIVE_DIR to the folder holding " +
                "libLibTorchSharp.so if it lives elsewhere. Inner error: " + Innermost(e).Message, e);
        }
    }

    /// <summary>
    /// Turns libtorch's NNPACK convolution path off (<c>torch.backends.nnpack.set_flags(False)</c> in PyTorch).
    /// </summary>
    /// <remarks>
    /// For float32 on the CPU, libtorch only reaches NNPACK for convolutions that oneDNN declines (1×1, stride 1,
    /// batch below 16, one thread), and NNPACK itself only runs at batch ≥ 16, so it never computes anything;
    /// but the availability check logs "Could not initialize NNPACK! Reason: Unsupported hardware." on every
    /// such convolution where cpuinfo does not recognise the CPU (this machine: tens of lines per training
    /// step at one thread). Called by <see cref="EnsureInitialized"/> unless <c>MAN_NNPACK=1</c>.
    /// Returns false where libtorch_cpu or its entry points are not found.
    /// </remarks>
    public static bool DisableNnpack()
    {
        if (!TryContextFlag("_ZN2at7Context20setUserEnabledNNPACKEb", out var context, out var setter)) return false;
        Marshal.GetDelegateForFunctionPointer<SetFlagFn>(setter)(context, false);
        Nnpack = "off (libtorch only consults it where it cannot run; MAN_NNPACK=1 keeps it)";
        return true;
    }

    /// <summary>What was done about oneDNN (see <see cref="SetOneDnn"/>), for <c>man-vision info</c>.</summary>
    public static string OneDnn { get; private set; } = "left as libtorch sets it";

    /// <summary>
    /// Turns libtorch's oneDNN (mkldnn) CPU path on or off (<c>torch.backends.mkldnn.enabled</c> in PyTorch); off,
    /// convolutions run ATen's own im2col + GEMM kernels. Returns false where libtorch_cpu's entry points are not found.
    /// </summary>
    public static bool SetOneDnn(bool enabled)
    {
        if (!TryContextFlag("_ZN2at7Context20setUserEnabledMkldnnEb", out var context, out var setter)) return false;
        Marshal.GetDelegateForFunctionPointer<SetFlagFn>(setter)(context, enabled);
        return true;
    }

    /// <summary>libtorch's own oneDNN flag (<c>at::globalContext().userEnabledMkldnn()</c>), null if unreachable.</summary>
    public static bool? OneDnnEnabled()
    {
        if (!TryContextFlag("_ZNK2at7Context17userEnabledMkldnnEv", out var context, out var getter)) return null;
        return Marshal.GetDelegateForFunctionPointer<GetFlagFn>(getter)(context);
    }

    private static void ApplyOneDnnPolicy(string? policy)
    {
        switch ((policy ?? "").Trim().ToLowerInvariant())
        {
            case "off" or "0":
                if (SetOneDnn(false)) OneDnn = "off (MAN_ONEDNN=off)";
                break;
            case "on" or "1":
                OneDnn = "on (MAN_ONEDNN=on)";
                break;
            default:
                OneDnn = "on (libtorch's default; checked before anything trains)";
                break;
        }
    }

    /// <summary>libtorch's own NNPACK flag (<c>at::globalContext().userEnabledNNPACK()</c>), null if unreachable.</summary>
    public static bool? NnpackEnabled()
    {
        if (!TryContextFlag("_ZNK2at7Context17userEnabledNNPACKEv", out var context, out var getter)) return null;
        return Marshal.GetDelegateForFunctionPointer<GetFlagFn>(getter)(context);
    }

    private static bool TryContextFlag(string symbol, out IntPtr context, out IntPtr function)
    {
        context = IntPtr.Zero;
        function = IntPtr.Zero;
        if (_torchCpu == IntPtr.Zero
            || !NativeLibrary.TryGetExport(_torchCpu, "_ZN2at13globalContextEv", out var global)
            || !NativeLibrary.TryGetExport(_torchCpu, symbol, out function)) return false;
        context = Marshal.GetDelegateForFunctionPointer<GlobalContextFn>(global)();
        return context != IntPtr.Zero;
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    private static string Prepare()
    {
        if (!OperatingSystem.IsLinux()) return "not Linux: TorchSharp loads as shipped";
        string? dir = FindNativeDirectory();
        if (dir is null) return "libLibTorchSharp.so not found next to the program: TorchSharp loads as shipped";
        NativeDirectory = dir;
        string original = Path.Combine(dir, "libLibTorchSharp.so");

        // Dependencies first, so that a copy outside the folder finds them already loaded.
        foreach (var dep in new[] { "libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so" })
        {
            string p = Path.Combine(dir, dep);
            if (!File.Exists(p) || !NativeLibrary.TryLoad(p, out var handle)) continue;
            if (dep == "libtorch_cpu.so") _torchCpu = handle;
            else if (dep == "libc10.so") _c10 = handle;
        }
        if (Environment.GetEnvironmentVariable("MAN_NNPACK") != "1") DisableNnpack();
        ApplyOneDnnPolicy(Environment.GetEnvironmentVariable("MAN_ONEDNN"));

        string firstError;
        try
        {
            NativeLibrary.Load(original);
            return $"native libraries loaded as shipped from {dir}";
        }
        catch (DllNotFoundException e)
        {
            firstError = e.Message;
        }
        if (!firstError.Contains("GLIBCXX_", StringComparison.Ordinal))
            return $"libLibTorchSharp.so failed to load: {firstError}";

        byte[] elf = File.ReadAllBytes(original);
        var missing = System.Text.RegularExpressions.Regex.Matches(firstError, @"GLIBCXX_[0-9.]*[0-9]")
            .Select(m => m.Value).ToHashSet();
        var weakened = ElfVersionPatcher.Weaken(elf, "libstdc++.so.6", missing.Contains);
        if (weakened.Count == 0)
            return $"libLibTorchSharp.so failed to load and no version requirement could be weakened: {firstError}";

        string hash = Convert.ToHexString(SHA256.HashData(elf))[..16].ToLowerInvariant();
        string copyDir = Path.Combine(CacheRoot(), hash);
        string copy = Path.Combine(copyDir, "libLibTorchSharp.so");
        if (!File.Exists(copy))
        {
            Directory.CreateDirectory(copyDir);
            string tmp = copy + "." + Environment.ProcessId + ".tmp";
            File.WriteAllBytes(tmp, elf);
            File.Move(tmp, copy, overwrite: true);
        }
        try
        {
            NativeLibrary.Load(copy);
        }
        catch (DllNotFoundException e)
        {
            return $"libLibTorchSharp.so needs {string.Join(", ", weakened)}; the weakened copy {copy} failed too: {e.Message}";
        }
        return $"system libstdc++ lacks {string.Join(", ", weakened)}: loaded a copy of libLibTorchSharp.so with that requirement weak ({copy})";
    }

    private static string CacheRoot()
    {
        string? env = Environment.GetEnvironmentVariable("MAN_NATIVE_CACHE");
        if (!string.IsNullOrEmpty(env)) return env;
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string root = !string.IsNullOrEmpty(xdg) ? xdg
            : !string.IsNullOrEmpty(home) ? Path.Combine(home, ".cache")
            : Path.GetTempPath();
        return Path.Combine(root, "man-vision", "native");
    }

    private static string? FindNativeDirectory()
    {
        var candidates = new List<string>();
        string? env = Environment.GetEnvironmentVariable("MAN_NATIVE_DIR");
        if (!string.IsNullOrEmpty(env)) candidates.Add(env);
        string rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        foreach (var baseDir in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(torch).Assembly.Location) })
        {
            if (string.IsNullOrEmpty(baseDir)) continue;
            candidates.Add(Path.Combine(baseDir, "runtimes", rid, "native"));
            candidates.Add(baseDir);
        }
        // NATIVE_DLL_SEARCH_DIRECTORIES holds the package folders when running from deps.json without a copy.
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string dirs)
            candidates.AddRange(dirs.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "libLibTorchSharp.so")));
    }
}

internal static class ModuleInit
{
#pragma warning disable CA2255 // Module initializers are how every consumer of the library gets the loader.
    [ModuleInitializer]
    internal static void Init() => TorchRuntime.EnsureInitialized();
#pragma warning restore CA2255
}
