namespace Man.Vision.Data.Synthetic;

/// <summary>What the synthetic data set is tuned for (every format is written either way).</summary>
public enum SyntheticTask
{
    /// <summary>Detection: 1–6 objects per image, sizes from small (16 px) to large (120 px).</summary>
    Detect = 0,

    /// <summary>Segmentation: 1–4 larger objects (40–150 px) covering more of the image.</summary>
    Segment = 1,
}
