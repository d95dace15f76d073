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
}
