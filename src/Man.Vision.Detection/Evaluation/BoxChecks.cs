namespace Man.Vision.Detection.Evaluation;

/// <summary>Validation of flattened xyxy boxes.</summary>
internal static class BoxChecks
{
    public static void CheckXyxy(float[] boxes, string what)
    {
        for (int i = 0; i < boxes.Length; i += 4)
        {
            float x1 = boxes[i], y1 = boxes[i + 1], x2 = boxes[i + 2], y2 = boxes[i + 3];
            if (!float.IsFinite(x1) || !float.IsFinite(y1) || !float.IsFinite(x2) || !float.IsFinite(y2) || x2 < x1 || y2 < y1)
                throw new ArgumentException($"{what} {i / 4} is invalid: [{x1}, {y1}, {x2}, {y2}] (finite xyxy with x2 >= x1 and y2 >= y1 expected).");
        }
    }
}
