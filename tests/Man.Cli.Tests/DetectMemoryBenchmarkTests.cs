using Newtonsoft.Json.Linq;
using Xunit.Abstractions;

namespace Man.Cli.Tests;

public sealed class DetectMemoryBenchmarkTests(ITestOutputHelper output)
{
    private JObject RunOne(string aux)
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", "detect-memory-one", "--backbone", "resnet18", "--height", "64", "--width", "96",
            "--batch", "1", "--method", "manpp", "--k", "4", "--split", "balanced", "--aux-head", aux, "--steps", "1", "--threads", "1");
        output.WriteLine(stdout + stderr);
        Assert.Equal(0, code);
        return JObject.Parse(stdout.Split('\n').Last(l => l.StartsWith('{')));
    }

    [Fact]
    public void The_auxiliary_head_of_a_configuration_is_the_one_measured()
    {
        var dense = RunOne("dense");
        var rcnn = RunOne("rcnn");
        Assert.Equal("dense", dense["Config"]!.Value<string>("AuxHead"));
        Assert.Equal("rcnn", rcnn["Config"]!.Value<string>("AuxHead"));
        Assert.Equal(4, rcnn["Plan"]!.Value<string>()!.Split('|').Length);
        Assert.Equal(dense.Value<string>("Plan"), rcnn.Value<string>("Plan"));
        // Both count the same backbone, copies and main head; only the three auxiliary heads differ.
        long d = dense.Value<long>("Parameters"), r = rcnn.Value<long>("Parameters");
        Assert.True(d > 11_000_000 && r > 11_000_000, $"{d}, {r}: a ResNet-18 alone has 11.2 M");
        Assert.NotEqual(d, r);
    }

    [Fact]
    public void An_unknown_auxiliary_head_in_the_configurations_is_refused_before_any_run()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", "detect-memory", "--backbone", "resnet18", "--height", "64", "--width", "96",
            "--configs", "e2e:1:stages,manpp:4:balanced:fpn", "--json", Path.Combine(Path.GetTempPath(), $"unused-{Guid.NewGuid():N}.json"));
        output.WriteLine(stdout + stderr);
        Assert.NotEqual(0, code);
        Assert.Contains("Unknown auxiliary detection head 'fpn'", stderr);
        Assert.DoesNotContain("[1/2]", stdout);
        var (code2, _, stderr2) = CliRunner.Run("bench", "detect-memory", "--configs", "manpp:4:balanced:rcnn:extra");
        Assert.NotEqual(0, code2);
        Assert.Contains("must be method:K, method:K:split or method:K:split:aux", stderr2);
    }
}
