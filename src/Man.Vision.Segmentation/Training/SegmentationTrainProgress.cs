namespace Man.Vision.Segmentation.Training;

/// <summary>A progress report of a running segmentation training, for live display.</summary>
/// <param name="Epoch">Current epoch (0-based).</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="ImagesPerSecond">Training throughput over the epoch so far.</param>
/// <param name="Eta">Estimated time to the end of the run (training steps only).</param>
/// <param name="BlockLosses">Running mean loss of each block over the epoch.</param>
/// <param name="S">MAN++'s s per early block (NaN where the method has none).</param>
/// <param name="LearningRate">The current learning rate.</param>
public sealed record SegmentationTrainProgress(int Epoch, int Epochs, int Batch, int Batches, double ImagesPerSecond, TimeSpan Eta,
    double[] BlockLosses, double[] S, double LearningRate);
