using Man.Local;
using Man.Local.Training;
using Man.Vision.Detection.Inference;
using Man.Vision.Detection.LocalLearning;
using Man.Vision.Detection.Models;
using Man.Vision.Detection.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Tests.Training;

/// <summary>
/// The detector's training step (every method's path through the engine, auxiliary heads and Faster R-CNN main head)
/// and its inference leave no tensor alive on the calling thread (TorchSharp's <c>DisposeScopeManager.Statistics</c>).
/// </summary>
public sealed class DetectionLeakTests
{
    [Theory]
    [InlineData(LocalMethod.E2E, 1, "dense")]
    [InlineData(LocalMethod.ManPlusPlus, 4, "dense")]
    [InlineData(LocalMethod.Greedy, 2, "dense")]
    [InlineData(LocalMethod.Man, 3, "rcnn")]
    public void TrainingStepsAndInferenceLeakNoTensors(LocalMethod method, int k, string auxHead)
    {
        using var outer = NewDisposeScope();
        var config = new DetectionModelConfig("resnet18", method, k, k == 1 ? "balanced" : "stages", ["square"], [1], 64, 64, 5, false,
            RoiSamplesPerImage: 32, RpnPostNmsTrain: 100, RpnPostNmsTest: 50, AuxHead: auxHead);
        using var model = DetectionModel.Create(config, seed: 3);
        using var trainer = new LocalTrainer<DetectionTargets>(model.Learner, new TrainerOptions
        {
            Schedule = new LearningRateSchedule { Kind = ScheduleKind.Constant, BaseLr = 0.001, TotalSteps = 100 },
            Momentum = 0.9, WeightDecay = 1e-4,
        });
        var (images, targets) = SyntheticSquares.Make(2, 64, seed: 4);
        var transform = new GeneralizedRcnnTransform(config.DetectorOptions().Transform);
        var (batch, scaled) = transform.Apply(images, targets, training: true);
        var target = DetectionTargets.From(batch, scaled!);
        var sizes = images.Select(i => new ImageSize(i.shape[1], i.shape[2])).ToList();

        void Round()
        {
            trainer.TrainStep(batch.Tensors, target);
            model.Detector.eval();
            var detections = DetectionInference.Predict(model.Detector, batch, sizes);
            foreach (var d in detections) { d.Boxes.Dispose(); d.Scores.Dispose(); d.Labels.Dispose(); }
        }

        Round();
        var stats = DisposeScopeManager.Statistics;
        stats.Reset();
        for (int i = 0; i < 2; i++) Round();
        long alive = stats.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++) Round();
        Assert.Equal(alive, stats.ThreadTotalLiveCount);
    }
}
