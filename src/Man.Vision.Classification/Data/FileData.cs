using Man.Vision.Classification.Training;

namespace Man.Vision.Classification.Data;

/// <summary>Classification data sets read from files (CIFAR-10 archive, ImageFolder, Fashion-MNIST).</summary>
internal static class FileData
{
    public static (IClassificationBatches Train, IClassificationBatches? Test) Open(string spec, int batchSize, long seed, int trainSize, int workers) =>
        throw new ArgumentException($"Unknown data set '{spec}'. Valid: {string.Join(", ", ClassificationData.Names)} (as NAME or NAME:PATH).");
}
