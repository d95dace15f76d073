using Man.Local;
using Man.Local.Training;
using Man.Vision.Segmentation.Inference;
using Man.Vision.Segmentation.Models;
using Man.Vision.Segmentation.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Tests.Training;

/// <summary>
/// A segmenter's training step (each method's path through the engine and the FCN/DeepLabV3 heads) and its inference,
/// whole-image and sliding-window, leave no tensor alive on the calling thread (<c>DisposeScopeManager.Statistics</c>).
/// </summary>
public sealed class SegmentationLeakTests
{
    [Theory]
    [InlineData(LocalMethod.E2E, 1, SegmentationHeadKind.DeepLabV3)]
    [InlineData(LocalMethod.ManPlusPlus, 4, SegmentationHeadKind.DeepLabV3)]
    [InlineData(LocalMethod.InfoPro, 2, SegmentationHeadKind.Fcn)]
    public void TrainingStepsAndInferenceLeakNoTensors(LocalMethod method, int k, SegmentationHeadKind head)
    {
        using var outer = NewDisposeScope();
        var options = new SegmentationTrainOptions
        {
            Arch = "resnet18", Head = head, AuxLoss = true, Method = method, K = k, Split = k == 4 ? "stages" : "balanced",
            BatchSize = 2, CropSize = 48, Workers = 1,
        };
        using var segmenter = Segmenter.Create(options, ["a", "b", "c"]);
        using var trainer = new LocalTrainer<Tensor>(segmenter.Learner, new TrainerOptions
        {
            Schedule = new LearningRateSchedule { Kind = ScheduleKind.Constant, BaseLr = 0.001, TotalSteps = 100 },
            Momentum = 0.9, WeightDecay = 1e-4,
        });
        manual_seed(2);
        var x = randn(2, 3, 48, 48);
        var y = randint(0, 3, [2, 48, 48], dtype: ScalarType.Int64);
        y[0, 0, ..8] = tensor(255L); // ignored pixels
        var window = SlidingWindow.Square(32, 24);

        void Round()
        {
            trainer.TrainStep(x, y);
            segmenter.Learner.eval();
            using (no_grad())
            {
                SegmentationInference.Predict(segmenter.Logits, x).Dispose();
                SegmentationInference.Predict(segmenter.Logits, x, window).Dispose();
            }
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
