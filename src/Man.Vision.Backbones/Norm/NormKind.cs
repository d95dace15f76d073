namespace Man.Vision.Backbones.Norm;

/// <summary>The normalisation layer a backbone is built with.</summary>
public enum NormKind
{
    /// <summary><c>nn.BatchNorm2d</c> (eps 1e-5, momentum 0.1): trainable, statistics updated in training mode.</summary>
    BatchNorm,

    /// <summary><see cref="FrozenBatchNorm2d"/>: fixed statistics and affine parameters (buffers only).</summary>
    FrozenBatchNorm,
}
