using Newtonsoft.Json.Linq;
using Man.Vision.Detection.Fpn;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Fpn;

public sealed class FeaturePyramidNetworkTests
{
    [Fact]
    public void OutputsEqualTorchvisionWithTheSameWeights()
    {
        using var scope = NewDisposeScope();
        var fx = Fixture.Load("fpn.json");
        var fpn = new FeaturePyramidNetwork([4, 6, 5], 3, lastLevelMaxPool: true);
        var state = fx["state_dict"]!.Children<JProperty>().ToDictionary(p => p.Name, p => Fixture.Tensor(p.Value));
        Assert.Equal(state.Keys.Order(), fpn.state_dict().Keys.Order());
        fpn.load_state_dict(state);
        var inputs = new OrderedDictionary<string, Tensor>();
        foreach (var p in fx["inputs"]!.Children<JProperty>()) inputs.Add(p.Name, Fixture.Tensor(p.Value));
        var outputs = fpn.call(inputs);
        var expected = fx["outputs"]!.Children<JProperty>().ToList();
        Assert.Equal(expected.Select(p => p.Name), outputs.Keys);
        foreach (var p in expected)
            Fixture.AssertClose(Fixture.Tensor(p.Value), outputs[p.Name], 1e-5, p.Name);
    }

    [Fact]
    public void DefaultInitialisationIsKaimingUniformWithZeroBias()
    {
        using var scope = NewDisposeScope();
        var fpn = new FeaturePyramidNetwork([64, 128], 32);
        foreach (var (name, p) in fpn.named_parameters())
        {
            if (name.EndsWith("bias")) Assert.Equal(0f, p.abs().max().item<float>());
            else
            {
                // kaiming_uniform(a = 1): bound = sqrt(6 / ((1 + a²)·fan_in)) = sqrt(3 / fan_in)
                long fanIn = p.shape[1] * p.shape[2] * p.shape[3];
                Assert.True(p.abs().max().item<float>() <= Math.Sqrt(3.0 / fanIn) + 1e-6, name);
            }
        }
    }
}
