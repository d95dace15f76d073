namespace Man.Vision.Data.Loading;

/// <summary>
/// A batch a <see cref="PrefetchLoader{TSample, TBatch}"/> hands to its consumer. Workers build batches inside a
/// dispose scope of their own (so every temporary tensor of loading, augmenting and collating is freed at once);
/// <see cref="DetachFromDisposeScope"/> takes the batch's own tensors out of that scope before it closes.
/// </summary>
/// <remarks>The consumer owns each batch it receives and disposes it (<c>using var batch = ...</c>).</remarks>
public interface ILoaderBatch : IDisposable
{
    /// <summary>Detaches every tensor the batch holds from the current dispose scope (<c>Tensor.DetachFromDisposeScope()</c>).</summary>
    void DetachFromDisposeScope();
}
