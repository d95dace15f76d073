using Man.Vision.Classification.Training;
using static TorchSharp.torch;

namespace Man.Vision.Classification.Data;

/// <summary>Opens a classification data set from the CLI's <c>--data</c> value as train and test batches.</summary>
public static class ClassificationData
{
    /// <summary>The data set names <see cref="Open"/> knows.</summary>
    public static readonly IReadOnlyList<string> Names = ["synth", "cifar10", "imagefolder", "fashion-mnist"];

    /// <summary>Images of the synthetic default: training and test counts and side.</summary>
    public const int SynthTrain = 6000, SynthTest = 1000, SynthSize = 32;

    /// <summary>
    /// Opens <paramref name="spec"/>: <c>synth</c>, <c>cifar10:PATH</c>, <c>imagefolder:DIR</c>, <c>fashion-mnist:DIR</c>,
    /// or a path whose kind is detected.
    /// </summary>
    /// <param name="spec">The data set.</param>
    /// <param name="batchSize">Batch size.</param>
    /// <param name="seed">Seed of order and augmentation.</param>
    /// <param name="trainSize">Use the first N training images only (0 = all).</param>
    /// <param name="workers">Data loading threads.</param>
    /// <param name="testSize">Use N evenly spaced test images only (0 = all).</param>
    public static (IClassificationBatches Train, IClassificationBatches? Test) Open(string spec, int batchSize, long seed, int trainSize, int workers, int testSize = 0)
    {
        string s = spec.Trim();
        if (s.Equals("synth", StringComparison.OrdinalIgnoreCase))
        {
            var (xtr, ytr) = SyntheticShapes.Generate(trainSize > 0 ? trainSize : SynthTrain, SynthSize, seed: 20260);
            var (xte, yte) = SyntheticShapes.Generate(testSize > 0 ? Math.Min(testSize, SynthTest) : SynthTest, SynthSize, seed: 20261);
            float[] mean = [0.5f, 0.5f, 0.5f], std = [0.25f, 0.25f, 0.25f];
            return (new TensorClassificationBatches(xtr, ytr, SyntheticShapes.Classes, batchSize, train: true, seed, mean, std),
                    new TensorClassificationBatches(xte, yte, SyntheticShapes.Classes, batchSize, train: false, seed, mean, std));
        }
        return FileData.Open(s, batchSize, seed, trainSize, workers, testSize);
    }
}
