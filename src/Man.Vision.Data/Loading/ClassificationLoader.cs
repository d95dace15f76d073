using Man.Vision.Data.Classification;
using Man.Vision.Data.Diagnostics;
using Man.Vision.Data.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Data.Loading;

/// <summary>
/// The classification instance of <see cref="PrefetchLoader{TSample, TBatch}"/>: batches of (images [N, C, H, W] float32,
/// labels [N] int64) from an <see cref="IClassificationDataSet"/> and a <see cref="ClassificationTransform"/>.
/// </summary>
/// <remarks>
/// For equally sized images without a per-image resize (CIFAR-10, Fashion-MNIST) a batch is assembled by copying each
/// image's bytes into one buffer and converting the whole batch at once; augmentation then runs on the batch tensor.
/// Images that cannot be read are handled by the log's policy: an exception naming the file
/// (<see cref="OnBad.Fail"/>) or a sample left out and counted (<see cref="OnBad.Skip"/>).
/// </remarks>
public static class ClassificationLoader
{
    /// <summary>Creates the loader.</summary>
    /// <param name="data">The data set.</param>
    /// <param name="transform">Per-image resize/crop, channels, augmentation, normalisation.</param>
    /// <param name="options">Batch size, shuffle, seed, workers, prefetch, drop-last.</param>
    /// <param name="log">Bad-input policy and warning summary; default: fail on the first bad image.</param>
    /// <exception cref="ArgumentException">The images differ in size and the transform has no <see cref="ClassificationTransform.CenterCrop"/>.</exception>
    public static PrefetchLoader<ClassificationSample, ClassificationBatch> Create(
        IClassificationDataSet data, ClassificationTransform transform, LoaderOptions options, BadInputLog? log = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(transform);
        ArgumentNullException.ThrowIfNull(options);
        log ??= new BadInputLog(OnBad.Fail);
        bool perImage = transform.Resize is not null || transform.CenterCrop is not null;
        if (data.FixedSize is null && transform.CenterCrop is null)
            throw new ArgumentException($"The images of {data.Name} differ in size: set CenterCrop (and Resize) in the transform to batch them.", nameof(transform));
        var memory = data as InMemoryImageSet;
        int outChannels = transform.Channels ?? data.Channels;
        var normalize = transform.Normalize?.ForChannels(outChannels);

        ClassificationSample? Load(int index, SampleContext ctx)
        {
            if (memory is not null && !perImage) return new ClassificationSample(index, memory.LabelOf(index), null, null);
            LabeledImage raw;
            try
            {
                raw = data.Load(index, log);
            }
            catch (BadInputException e)
            {
                log.Handle(e);
                return null;
            }
            if (!perImage) return new ClassificationSample(index, raw.Label, raw, null);
            var x = ToFloat(raw.Pixels, 1, raw.Height, raw.Width, raw.Channels);
            if (transform.Resize is { } r) x = ImageResize.ResizeShorterSide(x, r);
            if (transform.CenterCrop is { } c) x = ImageResize.CenterCrop(x, c, c);
            return new ClassificationSample(index, raw.Label, null, x.squeeze(0));
        }

        ClassificationBatch Collate(IReadOnlyList<ClassificationSample> samples, BatchContext ctx)
        {
            Tensor images;
            if (samples[0].Image is not null)
            {
                images = torch.stack(samples.Select(s => s.Image!).ToArray());
            }
            else
            {
                var (w, h) = data.FixedSize ?? (samples[0].Raw!.Width, samples[0].Raw!.Height);
                int c = data.Channels, bytes = w * h * c;
                var buffer = GC.AllocateUninitializedArray<byte>(samples.Count * bytes);
                for (int i = 0; i < samples.Count; i++)
                {
                    var src = memory is not null ? memory.ImageSpan(samples[i].Index) : samples[i].Raw!.Pixels;
                    if (src.Length != bytes)
                        throw new BadInputException("wrong-image-size", data.SourceOf(samples[i].Index),
                            $"the image has {src.Length} bytes, {w}x{h}x{c} = {bytes} expected: set Resize/CenterCrop to batch images of different sizes.");
                    src.CopyTo(buffer.AsSpan(i * bytes, bytes));
                }
                images = ToFloat(buffer, samples.Count, h, w, c);
            }
            if (images.shape[1] != outChannels)
                images = outChannels == 3 ? images.expand(-1, 3, -1, -1).contiguous() : Photometric.Grayscale(images);
            if (transform.Augment is { } aug) images = aug.Apply(images, ctx.Random);
            if (normalize is not null) images = normalize.Apply(images);
            var labels = torch.tensor(samples.Select(s => (long)s.Label).ToArray());
            return new ClassificationBatch(images.contiguous(), labels, samples.Select(s => s.Index).ToArray());
        }

        return new PrefetchLoader<ClassificationSample, ClassificationBatch>(data.Count, Load, Collate, options);
    }

    /// <summary>HWC bytes of <paramref name="n"/> images → float [N, C, H, W] in [0, 1] (torchvision's <c>ToTensor</c>).</summary>
    public static Tensor ToFloat(byte[] hwc, int n, int height, int width, int channels)
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.tensor(hwc, [n, height, width, channels], dtype: ScalarType.Byte);
        return t.permute(0, 3, 1, 2).to(ScalarType.Float32).div(255f).MoveToOuterDisposeScope();
    }
}
