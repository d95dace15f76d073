using Man.Runtime;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Man.Local.Tests;

public class RuntimeTests
{
    [Fact]
    public void Nnpack_is_switched_off_and_the_convolutions_it_was_consulted_for_still_compute_the_same()
    {
        if (!OperatingSystem.IsLinux() || TorchRuntime.NativeDirectory is null) return;
        // libtorch's own flag, read back through at::globalContext(): EnsureInitialized turned it off.
        Assert.Equal(false, TorchRuntime.NnpackEnabled());
        Assert.StartsWith("off", TorchRuntime.Nnpack);

        // The case oneDNN declines and NNPACK used to be asked about: a 1×1, stride-1 convolution, batch 4, one thread.
        int threads = get_num_threads();
        try
        {
            set_num_threads(1);
            using var scope = NewDisposeScope();
            var gen = new Generator(7);
            var x = randn(new long[] { 4, 6, 5, 5 }, generator: gen);
            var w = randn(new long[] { 3, 6, 1, 1 }, generator: gen);
            var y = nn.functional.conv2d(x, w);
            // Closed form: a 1×1 convolution is a matrix product over channels at every pixel.
            var expected = einsum("oc,nchw->nohw", w.reshape(3, 6), x);
            Assert.Equal(new long[] { 4, 3, 5, 5 }, y.shape);
            Assert.True(y.allclose(expected, rtol: 1e-5, atol: 1e-5), $"max |Δ| = {(y - expected).abs().max().item<float>()}");
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    [Fact]
    public void Local_learning_gradients_on_dirty_memory_equal_those_of_atens_own_convolution()
    {
        if (!OperatingSystem.IsLinux() || TorchRuntime.NativeDirectory is null) return;
        // The module initializer ran the guard: where oneDNN's convolution gradients read memory they did not write,
        // oneDNN is off now (and the guard says so).
        bool turnedOff = TorchRuntime.GuardConvolutionGradients();
        Assert.Equal(!turnedOff, TorchRuntime.OneDnnEnabled());
        var reference = ToyGradients(oneDnn: false);
        for (int rep = 0; rep < 8; rep++)
        {
            // Leave NaN in freed heap memory, so that a kernel reading memory before writing it returns NaN.
            // (With oneDNN on, on AMD EPYC with AVX-512 and libtorch 2.10, this test failed at its first repetition.)
            using (var scope = NewDisposeScope())
                for (long n = 64; n <= 1 << 20; n *= 2) full(n, float.NaN);
            var grads = ToyGradients(oneDnn: null);
            Assert.Equal(reference.Count, grads.Count);
            for (int i = 0; i < reference.Count; i++)
            {
                Assert.True(grads[i].isfinite().all().item<bool>(), $"repetition {rep}: gradient {i} is not finite ({TorchRuntime.ConvolutionGuard})");
                Assert.True(grads[i].allclose(reference[i], rtol: 1e-4, atol: 1e-6), $"repetition {rep}: gradient {i} differs by {(grads[i] - reference[i]).abs().max().item<float>()} ({TorchRuntime.ConvolutionGuard})");
            }
        }
    }

    /// <summary>Gradients of one toy InfoPro step; <paramref name="oneDnn"/> null keeps the process's policy.</summary>
    private static List<Tensor> ToyGradients(bool? oneDnn)
    {
        bool before = TorchRuntime.OneDnnEnabled() ?? true;
        if (oneDnn is bool on) Assert.True(TorchRuntime.SetOneDnn(on));
        try
        {
            using var scope = NewDisposeScope();
            var (net, _, learner) = Toy.Build(Man.Local.LocalMethod.InfoPro, 3);
            var (x, y) = Toy.Batch(7);
            learner.train();
            learner.Step(x, y);
            return net.parameters().Select(p => p.grad!.clone().DetachFromDisposeScope()).ToList();
        }
        finally
        {
            TorchRuntime.SetOneDnn(before);
        }
    }
}
