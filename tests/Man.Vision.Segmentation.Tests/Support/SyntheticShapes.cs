using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Tests.Support;

/// <summary>
/// Synthetic segmentation data: label maps of background (0) with 1–3 axis-aligned rectangles of class 1 or 2,
/// images whose three channels hold a class-dependent colour plus Gaussian noise, and a 1-pixel border labelled 255.
/// </summary>
internal static class SyntheticShapes
{
    private static readonly float[][] Colours = [[-0.6f, -0.6f, -0.6f], [0.8f, -0.4f, 0.2f], [-0.3f, 0.7f, 0.6f]];

    public static (Tensor Images, Tensor Labels) Batch(Random rng, int n, int height, int width, float noise = 0.6f)
    {
        var labels = new long[n * height * width];
        var images = new float[n * 3 * height * width];
        for (int b = 0; b < n; b++)
        {
            var map = new long[height * width];
            int rects = rng.Next(1, 4);
            for (int r = 0; r < rects; r++)
            {
                int cls = rng.Next(1, 3);
                int h = rng.Next(height / 5, height / 2), w = rng.Next(width / 5, width / 2);
                int y0 = rng.Next(0, height - h), x0 = rng.Next(0, width - w);
                for (int y = y0; y < y0 + h; y++)
                    for (int x = x0; x < x0 + w; x++) map[y * width + x] = cls;
            }
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    long cls = map[y * width + x];
                    for (int ch = 0; ch < 3; ch++)
                        images[((b * 3 + ch) * height + y) * width + x] = Colours[cls][ch] + noise * Gaussian(rng);
                    bool border = y == 0 || x == 0 || y == height - 1 || x == width - 1;
                    labels[(b * height + y) * width + x] = border ? 255 : cls;
                }
            }
        }
        return (tensor(images, [n, 3, height, width]), tensor(labels, [n, height, width]));
    }

    private static float Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
