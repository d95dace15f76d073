namespace Man.Vision.Data.Classification;

/// <summary>A data set's training split and, when it has one, its test/validation split.</summary>
/// <param name="Train">The training split.</param>
/// <param name="Test">The test (or validation) split; null when the source has a single split.</param>
public sealed record ClassificationSplits(IClassificationDataSet Train, IClassificationDataSet? Test);
