using Man.Vision.Detection.Evaluation;

namespace Man.Vision.Detection.Tests.Evaluation;

/// <summary>Malformed COCO files give messages that name the file, the entry and the problem.</summary>
public sealed class CocoBadInputTests : IDisposable
{
    private const string GoodTruth = """
        {"images": [{"id": 1, "width": 100, "height": 100}, {"id": 2}],
         "categories": [{"id": 1, "name": "cat"}, {"id": 3, "name": "dog"}],
         "annotations": [{"id": 10, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0},
                         {"id": 11, "image_id": 2, "category_id": 3, "bbox": [5, 5, 20, 20], "area": 400}]}
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("cocoeval-bad-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private InvalidDataException DetectionsError(string json)
    {
        string gt = Write("gt.json", GoodTruth);
        string dets = Write("dets.json", json);
        var ex = Assert.Throws<InvalidDataException>(() => CocoFileEvaluation.Evaluate(gt, dets));
        Assert.Contains("dets.json", ex.Message);
        return ex;
    }

    [Fact]
    public void GoodFilesEvaluate()
    {
        string gt = Write("gt.json", GoodTruth);
        string dets = Write("dets.json", """[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.5}]""");
        var report = CocoFileEvaluation.Evaluate(gt, dets);
        Assert.Equal(0.5, report.Stats["AR100"], 1e-12); // one of two objects found
        Assert.Contains("| cat", report.Text);
    }

    [Fact]
    public void UnknownImageIdIsNamed()
    {
        var ex = DetectionsError("""[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}, {"image_id": 99, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]""");
        Assert.Contains("detection #1", ex.Message);
        Assert.Contains("image_id 99", ex.Message);
    }

    [Fact]
    public void UnknownCategoryIdIsNamed()
    {
        var ex = DetectionsError("""[{"image_id": 1, "category_id": 2, "bbox": [0, 0, 1, 1], "score": 0.5}]""");
        Assert.Contains("detection #0", ex.Message);
        Assert.Contains("category_id 2", ex.Message);
    }

    [Theory]
    [InlineData("[0, 0, -1, 5]", "negative width or height")]
    [InlineData("[0, 0, 1]", "4 numbers")]
    [InlineData("[0, 0, 1, 2, 3]", "4 numbers")]
    [InlineData("[0, NaN, 1, 2]", "finite")]
    [InlineData("[0, \"a\", 1, 2]", "must be a number")]
    [InlineData("\"box\"", "4 numbers")]
    public void MalformedBoxesAreRejected(string box, string problem)
    {
        var ex = DetectionsError($$"""[{"image_id": 1, "category_id": 1, "bbox": {{box}}, "score": 0.5}]""");
        Assert.Contains("detection #0", ex.Message);
        Assert.Contains("bbox", ex.Message);
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public void NonFiniteOrMissingScoreIsRejected()
    {
        Assert.Contains("finite", DetectionsError("""[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": NaN}]""").Message);
        Assert.Contains("'score' is missing", DetectionsError("""[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]""").Message);
    }

    [Fact]
    public void MalformedJsonIsReportedWithItsPosition()
    {
        var ex = DetectionsError("""[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}""");
        Assert.Contains("not closed", ex.Message);
        var ex2 = DetectionsError("""[{"image_id": 1, "category_id": 1 "bbox": [0, 0, 1, 1]}]""");
        Assert.Contains("malformed JSON", ex2.Message);
        Assert.Contains("line 1", ex2.Message);
        Assert.Contains("array", DetectionsError("""{"image_id": 1}""").Message);
        Assert.Contains("JSON object", DetectionsError("""[5]""").Message);
    }

    [Theory]
    [InlineData("""{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]}""", "annotations[0] (id 1)", "'area' is missing")]
    [InlineData("""{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": [{"id": 1, "image_id": 2, "category_id": 1, "bbox": [0, 0, 1, 1], "area": 1}]}""", "annotations[0] (id 1)", "image_id 2")]
    [InlineData("""{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": [{"id": 1, "image_id": 1, "category_id": 4, "bbox": [0, 0, 1, 1], "area": 1}]}""", "annotations[0] (id 1)", "category_id 4")]
    [InlineData("""{"images": [{"id": 1}, {"id": 1}], "categories": [], "annotations": []}""", "images[1]", "repeats the image id 1")]
    [InlineData("""{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "area": 1}, {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "area": 1}]}""", "annotations[1] (id 1)", "repeats an annotation id")]
    [InlineData("""{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, -1], "area": 1}]}""", "annotations[0] (id 1)", "negative width or height")]
    [InlineData("""{"images": [{"id": "x"}], "categories": [], "annotations": []}""", "images[0]", "must be an integer")]
    [InlineData("""{"images": [], "categories": []}""", "gt.json", "'annotations' is missing")]
    [InlineData("""{"images": [], "categories": [], "annotations": [}""", "gt.json", "malformed JSON")]
    public void MalformedGroundTruthIsNamed(string json, string entry, string problem)
    {
        string gt = Write("gt.json", json);
        var ex = Assert.Throws<InvalidDataException>(() => CocoGroundTruth.Load(gt));
        Assert.Contains("gt.json", ex.Message);
        Assert.Contains(entry, ex.Message);
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public void MissingFilesAreNamed()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => CocoFileEvaluation.Evaluate(Path.Combine(_dir, "nope.json"), "x.json"));
        Assert.Contains("nope.json", ex.Message);
    }

    [Fact]
    public void InMemoryBadValuesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new BoxDetections([0, 0, 10, 10], [float.NaN], [1]));
        Assert.Throws<ArgumentException>(() => new BoxDetections([10, 0, 0, 10], [0.5f], [1])); // x2 < x1
        Assert.Throws<ArgumentException>(() => new BoxDetections([0, 0, 10], [0.5f], [1]));
        Assert.Throws<ArgumentException>(() => new DetectionTruth(1, [0, 0, 10, 10], [1], isCrowd: [true, false]));
        var gt = CocoGroundTruth.Parse(new StringReader(GoodTruth), "memory");
        var ex = Assert.Throws<InvalidDataException>(() => CocoEval.Evaluate(gt, [new CocoDetection(5, 1, 0, 0, 1, 1, 0.5)]));
        Assert.Contains("image_id 5", ex.Message);
        Assert.Throws<ArgumentException>(() => new CocoEvaluator(gt).Process([new DetectionTruth(5, [], [])], [BoxDetections.Empty]));
    }
}
