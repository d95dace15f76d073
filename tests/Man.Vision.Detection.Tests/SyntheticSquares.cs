using Man.Vision.Detection.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests;

/// <summary>Images of bright squares (class 1) on a dark noisy background, with their boxes.</summary>
internal static class SyntheticSquares
{
    /// <summary><paramref name="count"/> images <c>[3, size, size]</c> with 1–2 non-overlapping squares of side 12..24 each.</summary>
    public static (List<Tensor> Images, List<DetectionTarget> Targets) Make(int count, int size, int seed)
    {
        var rng = new Random(seed);
        var images = new List<Tensor>();
        var targets = new List<DetectionTarget>();
        using var gen = new Generator((ulong)seed);
        for (int i = 0; i < count; i++)
        {
            Tensor img = torch.rand([3, size, size], generator: gen) * 0.2f;
            int n = 1 + rng.Next(2);
            var boxes = new List<float>();
            for (int k = 0; k < n; k++)
            {
                for (int attempt = 0; attempt < 20; attempt++)
                {
                    int side = 12 + rng.Next(13);
                    int x = rng.Next(size - side), y = rng.Next(size - side);
                    bool overlaps = false;
                    for (int j = 0; j < boxes.Count; j += 4)
                        if (x < boxes[j + 2] + 2 && x + side + 2 > boxes[j] && y < boxes[j + 3] + 2 && y + side + 2 > boxes[j + 1]) overlaps = true;
                    if (overlaps) continue;
                    img[.., y..(y + side), x..(x + side)] = torch.full([3, side, side], 0.8f + 0.2f * (float)rng.NextDouble());
                    boxes.AddRange([x, y, x + side, y + side]);
                    break;
                }
            }
            images.Add(img);
            targets.Add(new DetectionTarget(torch.tensor(boxes.ToArray(), [boxes.Count / 4, 4]), torch.ones([boxes.Count / 4], ScalarType.Int64)));
        }
        return (images, targets);
    }
}
