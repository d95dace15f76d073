using Man.Local;
using Man.Vision.Detection.Training;
using Newtonsoft.Json.Linq;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Training;

public sealed class DetectionRunnerTests(ITestOutputHelper output)
{
    [Fact]
    public void ATinyRunLearnsAndWritesMetricsAndCheckpoints()
    {
        string run = TinyDetectionRun.RunDir("learn");
        var options = TinyDetectionRun.Options(LocalMethod.E2E, 1, epochs: 3);
        var history = new DetectionRunner().Train(options, TinyDetectionRun.Source, run, resume: false, CPU);
        foreach (var h in history)
            output.WriteLine($"epoch {h.Epoch}: loss {h.TrainLossPerBlock[^1]:F3} ({string.Join(", ", h.Losses.Select(kv => $"{kv.Key} {kv.Value:F3}"))}), " +
                             $"AP {h.Coco["AP"]:F4} AP50 {h.Coco["AP50"]:F4}, step {h.StepTimeMsMedian:F0} ms, train {h.Seconds:F1} s, eval {h.EvalSeconds:F1} s");
        Assert.Equal(3, history.Count);
        Assert.True(File.Exists(Path.Combine(run, DetectionRunner.LastCheckpoint)));
        Assert.True(File.Exists(Path.Combine(run, DetectionRunner.BestCheckpoint)));
        var metrics = JObject.Parse(File.ReadAllText(Path.Combine(run, DetectionRunner.MetricsFile)));
        Assert.Equal("detect", metrics.Value<string>("task"));
        Assert.Equal(3, ((JArray)metrics["epochs"]!).Count);
        foreach (var key in Man.Vision.Detection.Evaluation.CocoEvalResult.StatNames) Assert.NotNull(metrics["epochs"]![2]!["Coco"]![key]);
        Assert.Equal(["loss_box_reg", "loss_classifier", "loss_objectness", "loss_rpn_box_reg"], history[0].Losses.Keys.Order());
        Assert.True(history[^1].TrainLossPerBlock[^1] < 0.7 * history[0].TrainLossPerBlock[^1],
            $"loss {history[0].TrainLossPerBlock[^1]:F3} → {history[^1].TrainLossPerBlock[^1]:F3}");
        Assert.True(history[^1].Coco["AP50"] > 0.02, $"AP50 {history[^1].Coco["AP50"]:F4}");
        Directory.Delete(run, recursive: true);
    }
}
