namespace Man.Vision.Detection.Evaluation;

/// <summary>A ground-truth object of one class in one image for VOC evaluation: xyxy in pixels (inclusive VOC coordinates).</summary>
public readonly record struct VocTruth(double X1, double Y1, double X2, double Y2, bool Difficult = false);

/// <summary>A detection of one class for VOC evaluation: the image, xyxy in pixels and the confidence.</summary>
public readonly record struct VocDetection(long ImageId, double X1, double Y1, double X2, double Y2, double Score);

/// <summary>
/// VOC results of one class.
/// </summary>
/// <param name="Name">The class name.</param>
/// <param name="Ap">Area under the interpolated precision/recall curve (VOC2010+ "all points"); NaN without positives.</param>
/// <param name="Ap07">VOC2007 11-point AP; NaN without positives.</param>
/// <param name="Positives">Non-difficult ground-truth objects.</param>
/// <param name="Detections">Detections of the class.</param>
/// <param name="TruePositives">Detections counted as true positives.</param>
/// <param name="Recall">Cumulative recall after each detection, highest score first.</param>
/// <param name="Precision">Cumulative precision after each detection.</param>
public sealed record VocClassResult(string Name, double Ap, double Ap07, int Positives, int Detections, int TruePositives,
    IReadOnlyList<double> Recall, IReadOnlyList<double> Precision);
