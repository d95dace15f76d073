using Man.Vision.Detection.Fpn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests;

/// <summary>
/// The fixtures' tiny backbone body (make_fixtures.py TinyBody): conv 3→8 stride 4 + ReLU ("0"), conv 8→8 stride 2 + ReLU ("1").
/// </summary>
internal sealed class TinyBody : nn.Module<Tensor, IReadOnlyDictionary<string, Tensor>>
{
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;

    public TinyBody(long channels = 8) : base(nameof(TinyBody))
    {
        conv1 = nn.Conv2d(3, channels, 3, stride: 4, padding: 1);
        conv2 = nn.Conv2d(channels, channels, 3, stride: 2, padding: 1);
        Channels = channels;
        RegisterComponents();
    }

    public long Channels { get; }

    public IReadOnlyList<FeatureShape> Shapes => [new("0", Channels, 4), new("1", Channels, 8)];

    public override IReadOnlyDictionary<string, Tensor> forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor c2 = nn.functional.relu(conv1.call(x));
        Tensor c3 = nn.functional.relu(conv2.call(c2));
        return new Dictionary<string, Tensor> { ["0"] = c2.MoveToOuterDisposeScope(), ["1"] = c3.MoveToOuterDisposeScope() };
    }

    /// <summary>Body + FPN as in the fixture (8 channels, pool level).</summary>
    public static BackboneWithFpn WithFpn(long channels = 8)
    {
        var body = new TinyBody(channels);
        return new BackboneWithFpn(body, x => body.call(x), body.Shapes, channels, lastLevelMaxPool: true);
    }
}
