using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Norm;

/// <summary>
/// Batch normalisation with fixed statistics and affine parameters (torchvision's <c>FrozenBatchNorm2d</c>):
/// four buffers <c>weight</c>, <c>bias</c>, <c>running_mean</c>, <c>running_var</c> and no parameters, so an
/// optimiser never changes it and training mode never updates it.
/// </summary>
/// <remarks>
/// y = x · scale + shift with scale = weight · rsqrt(running_var + eps), shift = bias − running_mean · scale,
/// exactly torchvision's formula (eps 1e-5). Shape shorthand: x <c>[N, C, H, W]</c> → <c>[N, C, H, W]</c>.
/// </remarks>
public sealed class FrozenBatchNorm2d : nn.Module<Tensor, Tensor>
{
    private readonly Tensor weight;
    private readonly Tensor bias;
    private readonly Tensor running_mean;
    private readonly Tensor running_var;

    /// <summary>Identity statistics: weight 1, bias 0, mean 0, variance 1.</summary>
    /// <param name="numFeatures">Number of channels C.</param>
    /// <param name="eps">Added to the variance before the square root (torchvision: 1e-5).</param>
    public FrozenBatchNorm2d(long numFeatures, double eps = 1e-5) : base(nameof(FrozenBatchNorm2d))
    {
        if (numFeatures <= 0) throw new ArgumentOutOfRangeException(nameof(numFeatures), numFeatures, "The number of features must be positive.");
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be positive.");
        NumFeatures = numFeatures;
        Eps = eps;
        weight = ones(numFeatures);
        bias = zeros(numFeatures);
        running_mean = zeros(numFeatures);
        running_var = ones(numFeatures);
        RegisterComponents();
    }

    /// <summary>Number of channels C.</summary>
    public long NumFeatures { get; }

    /// <summary>The constant added to the variance.</summary>
    public double Eps { get; }

    /// <summary>The scale γ (a buffer).</summary>
    public Tensor Weight => weight;

    /// <summary>The shift β (a buffer).</summary>
    public Tensor Bias => bias;

    /// <summary>The running mean (a buffer).</summary>
    public Tensor RunningMean => running_mean;

    /// <summary>The running variance (a buffer).</summary>
    public Tensor RunningVar => running_var;

    /// <summary>
    /// A frozen copy of <paramref name="source"/>: its affine parameters and running statistics, and its eps.
    /// </summary>
    /// <exception cref="ArgumentException">The batch norm has no affine parameters or no running statistics.</exception>
    public static FrozenBatchNorm2d From(TorchSharp.Modules.BatchNorm2d source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.weight is null || source.bias is null)
            throw new ArgumentException("Only affine BatchNorm2d layers (with weight and bias) can be frozen.", nameof(source));
        if (source.running_mean is null || source.running_var is null)
            throw new ArgumentException("Only BatchNorm2d layers that track running statistics can be frozen.", nameof(source));
        var frozen = new FrozenBatchNorm2d(source.weight.shape[0], source.eps);
        using (no_grad())
        {
            frozen.weight.copy_(source.weight);
            frozen.bias.copy_(source.bias);
            frozen.running_mean.copy_(source.running_mean);
            frozen.running_var.copy_(source.running_var);
        }
        return frozen.to(source.weight.device);
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var scale = weight * (running_var + Eps).rsqrt();
        var shift = bias - running_mean * scale;
        var y = x * scale.reshape(1, -1, 1, 1) + shift.reshape(1, -1, 1, 1);
        return y.MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override string ToString() => $"FrozenBatchNorm2d({NumFeatures}, eps={Eps})";
}
