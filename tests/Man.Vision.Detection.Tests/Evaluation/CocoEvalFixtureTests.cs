using System.Text.RegularExpressions;
using Man.Testing;
using Man.Vision.Detection.Evaluation;
using Newtonsoft.Json.Linq;

namespace Man.Vision.Detection.Tests.Evaluation;

/// <summary>The COCO evaluator against pycocotools' own output on the shared fixture.</summary>
public sealed class CocoEvalFixtureTests
{
    private static string GroundTruth => SharedData.Path("tiny-coco/instances_train2017_small.json");

    [SharedDataFact]
    public void StatsEqualPycocotools()
    {
        var report = CocoFileEvaluation.Evaluate(GroundTruth, SharedData.Fixture("cocoeval/detections.json"));
        var expected = JObject.Parse(File.ReadAllText(SharedData.Fixture("cocoeval/expected_stats.json")));
        Assert.Equal(12, expected.Count);
        foreach (var name in CocoEvalResult.StatNames)
            Assert.True(Math.Abs((double)expected[name]! - report.Stats[name]) <= 1e-6,
                $"{name}: pycocotools {(double)expected[name]!:R}, ours {report.Stats[name]:R}");
    }

    [SharedDataFact]
    public void PrintedSummaryEqualsPycocotoolsLineByLine()
    {
        var report = CocoFileEvaluation.Evaluate(GroundTruth, SharedData.Fixture("cocoeval/detections.json"));
        var expected = File.ReadAllLines(SharedData.Fixture("cocoeval/expected_summary.txt"));
        var ours = report.Result.FormatReport().Split('\n')[..^1];
        Assert.Equal(expected.Length, ours.Length);
        var timing = new Regex(@"^DONE \(t=\d+\.\d\ds\)\.$");
        for (int i = 0; i < expected.Length; i++)
        {
            if (timing.IsMatch(expected[i]))
                Assert.Matches(timing, ours[i]);
            else
                Assert.Equal(expected[i], ours[i]);
        }
    }

    [SharedDataFact]
    public void JsonOutputHoldsTheTwelveStats()
    {
        string output = Path.Combine(Path.GetTempPath(), $"cocoeval-{Guid.NewGuid():N}.json");
        try
        {
            var report = CocoFileEvaluation.Evaluate(GroundTruth, SharedData.Fixture("cocoeval/detections.json"), output);
            var written = JObject.Parse(File.ReadAllText(output));
            Assert.Equal(CocoEvalResult.StatNames, written.Properties().Select(p => p.Name));
            foreach (var name in CocoEvalResult.StatNames)
                Assert.Equal(report.Stats[name], (double)written[name]!);
            Assert.Contains("| category", report.Text);
        }
        finally
        {
            File.Delete(output);
        }
    }
}
