using Man.Vision.Detection.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Ops;

public sealed class FocalLossTests
{
    [Fact]
    public void MatchesTheClosedForm()
    {
        using var scope = NewDisposeScope();
        // x = 0, t = 1: p = 0.5, CE = ln 2, (1 − p_t)² = 0.25, α_t = 0.25.
        // x = 2, t = 0: p = σ(2), CE = ln(1 + e²), p_t = 1 − σ(2), (1 − p_t)² = σ(2)², α_t = 0.75.
        Tensor x = tensor(new float[] { 0, 2 }), t = tensor(new float[] { 1, 0 });
        float[] l = FocalLoss.Sigmoid(x, t, reduction: nn.Reduction.None).data<float>().ToArray();
        double s2 = 1 / (1 + Math.Exp(-2));
        Assert.Equal(0.25 * 0.25 * Math.Log(2), l[0], 6);
        Assert.Equal(0.75 * s2 * s2 * Math.Log(1 + Math.Exp(2)), l[1], 5);
        // γ = 0 and no α: plain BCE.
        Tensor bce = nn.functional.binary_cross_entropy_with_logits(x, t, reduction: nn.Reduction.Sum);
        Assert.Equal(bce.item<float>(), FocalLoss.Sigmoid(x, t, alpha: -1, gamma: 0).item<float>(), 6);
    }
}
