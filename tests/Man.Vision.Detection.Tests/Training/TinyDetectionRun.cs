using Man.Testing;
using Man.Local;
using Man.Vision.Data.Coco;
using Man.Vision.Data.Synthetic;
using Man.Vision.Detection.Training;

namespace Man.Vision.Detection.Tests.Training;

/// <summary>A small synthetic detection set (128 px shapes) rendered once per test process, and tiny run options.</summary>
internal static class TinyDetectionRun
{
    private static readonly Lazy<DetectionDataSource> Data = new(() =>
    {
        string root = Path.Combine(Path.GetTempPath(), $"man-det-train-tests-{Environment.ProcessId}");
        var options = new SyntheticOptions(Width: 128, Height: 128, MinObjects: 1, MaxObjects: 3, MinSize: 28, MaxSize: 80, NegativeFraction: 0.05);
        SyntheticDataWriter.Write(SyntheticTask.Detect, root, 60, seed: 3, options);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(root, true); } catch (IOException) { } };
        var read = new CocoReadOptions(LoadMasks: false);
        var train = CocoReader.Read(SyntheticLayout.CocoJson(root, "train"), SyntheticLayout.ImageDir(root), read);
        var val = CocoReader.Read(SyntheticLayout.CocoJson(root, "val"), SyntheticLayout.ImageDir(root), read);
        return new DetectionDataSource("synth-test", DetectionDataKind.Synthetic, train, val, ValIsTrain: false);
    });

    /// <summary>48 training and 12 validation images of 128×128 with 1–3 shapes of 28–80 px.</summary>
    public static DetectionDataSource Source => Data.Value;

    /// <summary>
    /// resnet18-FPN at 128 px, batch 4, lr 0.01 with a short warm-up and no decay, one worker; fewer RoIs and proposals than
    /// torchvision (64 sampled RoIs, 300/100 proposals) to keep a step near a second on one thread.
    /// </summary>
    public static DetectionTrainOptions Options(LocalMethod method, int k, int epochs) => new()
    {
        Backbone = "resnet18", Method = method, K = k, Epochs = epochs, BatchSize = 4, LearningRate = 0.01, WarmupIterations = 4,
        Schedule = DetectionSchedule.Step, Milestones = [], MinSize = 128, MaxSize = 128, Workers = 1, Seed = 7,
        RoiSamplesPerImage = 64, RpnPostNmsTrain = 300, RpnPostNmsTest = 100,
    };

    /// <summary>A fresh temporary run folder, deleted on dispose.</summary>
    public static TempDir RunDir(string name) => new($"man-det-run-{name}");
}
