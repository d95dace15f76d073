using Man.Vision.Data.Classification;

namespace Man.Vision.Data.Transforms;

/// <summary>
/// What turns classification images into a batch: an optional per-image resize and center crop (for data sets whose images
/// differ in size), an optional grayscale→RGB replication, batched augmentation, and normalisation, in that order; images
/// enter as float in [0, 1] (torchvision's <c>ToTensor</c>).
/// </summary>
public sealed record ClassificationTransform
{
    private readonly int? _resize;
    private readonly int? _centerCrop;
    private readonly int? _channels;

    /// <summary>Resize the shorter side to this many pixels (bilinear, antialiased) per image; null: no resize.</summary>
    public int? Resize
    {
        get => _resize;
        init => _resize = value is null or >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Resize), value, "Resize must be at least 1.");
    }

    /// <summary>Then cut the central square of this side per image; null: no crop.</summary>
    public int? CenterCrop
    {
        get => _centerCrop;
        init => _centerCrop = value is null or >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(CenterCrop), value, "CenterCrop must be at least 1.");
    }

    /// <summary>Output channels: null keeps the stored ones; 3 replicates grayscale to RGB; 1 converts RGB to luma.</summary>
    public int? Channels
    {
        get => _channels;
        init => _channels = value is null or 1 or 3 ? value : throw new ArgumentOutOfRangeException(nameof(Channels), value, "Channels must be 1 or 3.");
    }

    /// <summary>Batched random augmentation (crop, flip, jitter...); null: none (evaluation).</summary>
    public IBatchTransform? Augment { get; init; }

    /// <summary>Normalisation; null: none (images stay in [0, 1]).</summary>
    public Normalize? Normalize { get; init; }

    /// <summary>CIFAR training, as the MAN/InfoPro reference: random crop 32 with zero padding 4, horizontal flip 0.5, normalise.</summary>
    public static ClassificationTransform CifarTrain { get; } = new()
    {
        Augment = new BatchCompose(new RandomCrop(32, 4), new RandomHorizontalFlip(0.5)),
        Normalize = Transforms.Normalize.Cifar10,
    };

    /// <summary>CIFAR evaluation: normalise only.</summary>
    public static ClassificationTransform CifarEval { get; } = new() { Normalize = Transforms.Normalize.Cifar10 };

    /// <summary>Fashion-MNIST training: random crop 28 with padding 2, horizontal flip, normalise.</summary>
    public static ClassificationTransform FashionMnistTrain { get; } = new()
    {
        Augment = new BatchCompose(new RandomCrop(28, 2), new RandomHorizontalFlip(0.5)),
        Normalize = Transforms.Normalize.FashionMnist,
    };

    /// <summary>Fashion-MNIST evaluation: normalise only.</summary>
    public static ClassificationTransform FashionMnistEval { get; } = new() { Normalize = Transforms.Normalize.FashionMnist };

    /// <summary>ImageFolder training: resize the shorter side to <paramref name="resize"/>, center crop <paramref name="size"/>, flip, ImageNet normalisation.</summary>
    public static ClassificationTransform ImageFolderTrain(int size = 224, int resize = 256) => new()
    {
        Resize = resize,
        CenterCrop = size,
        Augment = new RandomHorizontalFlip(0.5),
        Normalize = Transforms.Normalize.ImageNet,
    };

    /// <summary>ImageFolder evaluation (torchvision's ImageNet eval): resize to <paramref name="resize"/>, center crop <paramref name="size"/>, normalise.</summary>
    public static ClassificationTransform ImageFolderEval(int size = 224, int resize = 256) => new()
    {
        Resize = resize,
        CenterCrop = size,
        Normalize = Transforms.Normalize.ImageNet,
    };

    /// <summary>The preset that fits <paramref name="data"/>: CIFAR-like (3×32×32 in memory), Fashion-MNIST-like (1 channel), or ImageFolder at <paramref name="imageSize"/>.</summary>
    public static ClassificationTransform For(IClassificationDataSet data, bool train, int imageSize = 224)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.FixedSize is { } s && data.Channels == 1) return train ? FashionMnistTrain with { Augment = new BatchCompose(new RandomCrop(s.Height, 2), new RandomHorizontalFlip(0.5)) } : FashionMnistEval;
        if (data.FixedSize is { Width: 32, Height: 32 }) return train ? CifarTrain : CifarEval;
        int resize = (int)Math.Round(imageSize * 256.0 / 224.0);
        return train ? ImageFolderTrain(imageSize, resize) : ImageFolderEval(imageSize, resize);
    }
}
