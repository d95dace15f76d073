using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Models;

/// <summary>
/// Input and output transform of R-CNN models (torchvision's <c>GeneralizedRCNNTransform</c>): normalises each image,
/// resizes it so the shorter side is MinSize unless the longer side would exceed MaxSize (bilinear, scale computed in
/// float32 and the size floored, as torchvision), scales the target boxes alike, pads the batch to a multiple of
/// SizeDivisible, and maps detections back to the original image sizes. Holds no weights.
/// </summary>
public sealed class GeneralizedRcnnTransform
{
    private readonly Generator? generator;

    /// <summary>Creates the transform; <paramref name="generator"/> picks the training MinSize when several are given.</summary>
    public GeneralizedRcnnTransform(TransformOptions options, Generator? generator = null)
    {
        Options = options.Validate();
        this.generator = generator;
    }

    /// <summary>The options.</summary>
    public TransformOptions Options { get; }

    /// <summary>Normalised, resized and padded batch, and the targets scaled to it.</summary>
    /// <param name="images">Images <c>[C, H, W]</c> float in [0, 1], any sizes.</param>
    /// <param name="targets">Targets in original pixels, or null.</param>
    /// <param name="training">Training picks a random MinSize; inference uses the last.</param>
    public (ImageList Images, IReadOnlyList<DetectionTarget>? Targets) Apply(IReadOnlyList<Tensor> images,
        IReadOnlyList<DetectionTarget>? targets, bool training)
    {
        if (images.Count == 0) throw new ArgumentException("The batch holds no image.", nameof(images));
        if (targets is not null && targets.Count != images.Count)
            throw new ArgumentException($"{targets.Count} targets for {images.Count} images.", nameof(targets));
        using var scope = NewDisposeScope();
        var resized = new List<Tensor>();
        var newTargets = targets is null ? null : new List<DetectionTarget>();
        for (int i = 0; i < images.Count; i++)
        {
            Tensor img = images[i];
            if (img.dim() != 3)
                throw new ArgumentException($"Image {i} must be [C, H, W], got [{string.Join(", ", img.shape)}].", nameof(images));
            if (img.shape[0] != Options.ImageMean.Count)
                throw new ArgumentException($"Image {i} has {img.shape[0]} channels; the normalisation expects {Options.ImageMean.Count}.", nameof(images));
            if (!img.is_floating_point())
                throw new ArgumentException($"Image {i} must be a floating-point tensor in [0, 1], got {img.dtype}.", nameof(images));
            Tensor norm = Normalize(img);
            var original = new ImageSize(img.shape[1], img.shape[2]);
            int minSize = training && Options.MinSize.Count > 1
                ? Options.MinSize[(int)torch.randint(Options.MinSize.Count, [1], generator: generator).item<long>()]
                : Options.MinSize[^1];
            var (r, size) = Resize(norm, minSize);
            resized.Add(r);
            if (newTargets is not null)
                newTargets.Add(targets![i] with { Boxes = ResizeBoxes(targets[i].Boxes, original, size).MoveToOuterDisposeScope() });
        }
        Tensor batch = BatchImages(resized);
        var sizes = resized.Select(r => new ImageSize(r.shape[1], r.shape[2])).ToArray();
        return (new ImageList(batch.MoveToOuterDisposeScope(), sizes), newTargets);
    }

    /// <summary>Scales detections from the resized image sizes back to the original ones.</summary>
    public IReadOnlyList<Detections> Postprocess(IReadOnlyList<Detections> detections, IReadOnlyList<ImageSize> resizedSizes,
        IReadOnlyList<ImageSize> originalSizes) =>
        detections.Select((d, i) => d with { Boxes = ResizeBoxes(d.Boxes, resizedSizes[i], originalSizes[i]) }).ToArray();

    /// <summary>The size an image of <paramref name="size"/> is resized to for a shorter side of <paramref name="minSize"/>.</summary>
    public ImageSize ResizedSize(ImageSize size, int minSize)
    {
        // float32 arithmetic as torchvision: scale = min(min_size / short, max_size / long), size = floor(side · scale).
        float shortSide = Math.Min(size.Height, size.Width), longSide = Math.Max(size.Height, size.Width);
        float scale = Math.Min((float)minSize / shortSide, (float)Options.MaxSize / longSide);
        return new ImageSize((long)Math.Floor(size.Height * (double)scale), (long)Math.Floor(size.Width * (double)scale));
    }

    /// <summary>Boxes <c>[N, 4]</c> xyxy scaled from an image of size <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static Tensor ResizeBoxes(Tensor boxes, ImageSize from, ImageSize to)
    {
        using var scope = NewDisposeScope();
        float rh = (float)to.Height / from.Height, rw = (float)to.Width / from.Width;
        var c = boxes.unbind(1);
        return torch.stack([c[0] * rw, c[1] * rh, c[2] * rw, c[3] * rh], 1).MoveToOuterDisposeScope();
    }

    private Tensor Normalize(Tensor img)
    {
        Tensor mean = torch.tensor(Options.ImageMean.ToArray(), img.dtype, img.device).view(-1, 1, 1);
        Tensor std = torch.tensor(Options.ImageStd.ToArray(), img.dtype, img.device).view(-1, 1, 1);
        return (img - mean) / std;
    }

    private (Tensor Image, ImageSize Size) Resize(Tensor img, int minSize)
    {
        var size = ResizedSize(new ImageSize(img.shape[1], img.shape[2]), minSize);
        if (size.Height < 1 || size.Width < 1)
            throw new ArgumentException($"An image of {img.shape[1]}×{img.shape[2]} pixels resizes to {size}; it is too thin for MinSize {minSize} / MaxSize {Options.MaxSize}.");
        Tensor r = nn.functional.interpolate(img.unsqueeze(0), size: [size.Height, size.Width], mode: InterpolationMode.Bilinear, align_corners: false)[0];
        return (r, size);
    }

    private Tensor BatchImages(List<Tensor> images)
    {
        long c = images.Max(i => i.shape[0]);
        long d = Options.SizeDivisible;
        long h = (long)Math.Ceiling(images.Max(i => i.shape[1]) / (double)d) * d;
        long w = (long)Math.Ceiling(images.Max(i => i.shape[2]) / (double)d) * d;
        Tensor batch = torch.zeros([images.Count, c, h, w], images[0].dtype, images[0].device);
        for (int i = 0; i < images.Count; i++)
            batch[i, .., ..(int)images[i].shape[1], ..(int)images[i].shape[2]] = images[i];
        return batch;
    }
}
