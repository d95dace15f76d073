namespace Man.Vision.Data.Loading;

/// <summary>A batch that knows how many samples it holds (for <see cref="LoaderStatistics.Samples"/>).</summary>
public interface ICountedBatch
{
    /// <summary>The number of samples in the batch.</summary>
    int Count { get; }
}
