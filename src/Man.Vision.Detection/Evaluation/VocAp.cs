namespace Man.Vision.Detection.Evaluation;

/// <summary>
/// PASCAL VOC average precision as the classic <c>voc_eval.py</c> (py-faster-rcnn, detectron2) computes it.
/// </summary>
/// <remarks>
/// Detections are taken highest score first (ties keep input order); each is matched to the object of its image with
/// the largest IoU, where box sizes count pixels inclusively (<c>x2 − x1 + 1</c>). With IoU &gt; threshold it is a true
/// positive if that object is not difficult and not yet taken, a false positive if already taken, and neither if the
/// object is difficult; otherwise a false positive. Recall divides by the non-difficult objects.
/// </remarks>
public static class VocAp
{
    /// <summary>numpy's <c>np.finfo(np.float64).eps</c>, the floor of voc_eval's precision denominator.</summary>
    private const double Float64Eps = 2.220446049250313e-16;

    /// <summary>Matches one class's detections to its objects and computes both APs.</summary>
    /// <param name="name">The class name (for the result).</param>
    /// <param name="truths">Objects of the class per image; an image missing here has none.</param>
    /// <param name="detections">Detections of the class, any order.</param>
    /// <param name="iouThreshold">A match needs IoU strictly above this (0.5 for VOC).</param>
    public static VocClassResult EvaluateClass(string name, IReadOnlyDictionary<long, IReadOnlyList<VocTruth>> truths,
        IReadOnlyList<VocDetection> detections, double iouThreshold = 0.5)
    {
        ArgumentNullException.ThrowIfNull(truths);
        ArgumentNullException.ThrowIfNull(detections);
        int positives = 0;
        var taken = new Dictionary<long, bool[]>(truths.Count);
        foreach (var (image, objects) in truths)
        {
            foreach (var o in objects) if (!o.Difficult) positives++;
            taken[image] = new bool[objects.Count];
        }

        int nd = detections.Count;
        var order = new int[nd];
        for (int i = 0; i < nd; i++) order[i] = i;
        Array.Sort(order, (a, b) =>
        {
            int c = detections[b].Score.CompareTo(detections[a].Score);
            return c != 0 ? c : a.CompareTo(b);
        });

        var tp = new double[nd];
        var fp = new double[nd];
        for (int j = 0; j < nd; j++)
        {
            var d = detections[order[j]];
            double best = double.NegativeInfinity;
            int bestIndex = -1;
            if (truths.TryGetValue(d.ImageId, out var objects))
            {
                for (int g = 0; g < objects.Count; g++)
                {
                    double v = Iou(d, objects[g]);
                    if (v > best) { best = v; bestIndex = g; }   // first maximum, as np.argmax
                }
            }
            if (best > iouThreshold)
            {
                if (objects![bestIndex].Difficult) continue;
                var flags = taken[d.ImageId];
                if (!flags[bestIndex]) { tp[j] = 1; flags[bestIndex] = true; }
                else fp[j] = 1;
            }
            else
            {
                fp[j] = 1;
            }
        }

        var recall = new double[nd];
        var precision = new double[nd];
        double tpSum = 0, fpSum = 0;
        for (int j = 0; j < nd; j++)
        {
            tpSum += tp[j];
            fpSum += fp[j];
            recall[j] = tpSum / positives;
            precision[j] = tpSum / Math.Max(tpSum + fpSum, Float64Eps);
        }
        double ap = positives == 0 ? double.NaN : AreaAp(recall, precision);
        double ap07 = positives == 0 ? double.NaN : ElevenPointAp(recall, precision);
        return new VocClassResult(name, ap, ap07, positives, nd, (int)tpSum, recall, precision);
    }

    /// <summary>
    /// IoU with VOC's inclusive pixel sizes: <c>(min(x2) − max(x1) + 1)·(min(y2) − max(y1) + 1)</c> over the union of
    /// <c>(x2 − x1 + 1)(y2 − y1 + 1)</c> areas (voc_eval's overlap).
    /// </summary>
    public static double Iou(VocDetection d, VocTruth g)
    {
        double iw = Math.Max(Math.Min(g.X2, d.X2) - Math.Max(g.X1, d.X1) + 1.0, 0.0);
        double ih = Math.Max(Math.Min(g.Y2, d.Y2) - Math.Max(g.Y1, d.Y1) + 1.0, 0.0);
        double inter = iw * ih;
        double union = (d.X2 - d.X1 + 1.0) * (d.Y2 - d.Y1 + 1.0) + (g.X2 - g.X1 + 1.0) * (g.Y2 - g.Y1 + 1.0) - inter;
        return inter / union;
    }

    /// <summary>
    /// VOC2010+ AP: the precision envelope (max to the right) integrated over recall at every point where recall changes,
    /// with sentinels recall 0/1 and precision 0.
    /// </summary>
    public static double AreaAp(IReadOnlyList<double> recall, IReadOnlyList<double> precision)
    {
        CheckCurve(recall, precision);
        int n = recall.Count;
        var mrec = new double[n + 2];
        var mpre = new double[n + 2];
        mrec[0] = 0; mpre[0] = 0;
        for (int i = 0; i < n; i++) { mrec[i + 1] = recall[i]; mpre[i + 1] = precision[i]; }
        mrec[n + 1] = 1; mpre[n + 1] = 0;
        for (int i = mpre.Length - 1; i > 0; i--) mpre[i - 1] = Math.Max(mpre[i - 1], mpre[i]);
        double ap = 0;
        for (int i = 0; i < mrec.Length - 1; i++)
            if (mrec[i + 1] != mrec[i]) ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1];
        return ap;
    }

    /// <summary>
    /// VOC2007 11-point AP: the mean over t = 0, 0.1, …, 1 (computed as <c>i·0.1</c>, like <c>np.arange(0, 1.1, 0.1)</c>)
    /// of the largest precision at recall ≥ t (0 when recall never reaches t).
    /// </summary>
    public static double ElevenPointAp(IReadOnlyList<double> recall, IReadOnlyList<double> precision)
    {
        CheckCurve(recall, precision);
        double ap = 0;
        for (int i = 0; i <= 10; i++)
        {
            double t = i * 0.1;
            double p = 0;
            bool any = false;
            for (int j = 0; j < recall.Count; j++)
                if (recall[j] >= t) { p = any ? Math.Max(p, precision[j]) : precision[j]; any = true; }
            ap += (any ? p : 0) / 11.0;
        }
        return ap;
    }

    private static void CheckCurve(IReadOnlyList<double> recall, IReadOnlyList<double> precision)
    {
        ArgumentNullException.ThrowIfNull(recall);
        ArgumentNullException.ThrowIfNull(precision);
        if (recall.Count != precision.Count)
            throw new ArgumentException($"Recall ({recall.Count} points) and precision ({precision.Count} points) must have the same length.");
    }
}
