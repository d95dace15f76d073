using Man.Vision.Segmentation.Evaluation;
using Man.Vision.Segmentation.IO;
using Man.Vision.Segmentation.Tests.Support;

namespace Man.Vision.Segmentation.Tests.Evaluation;

public sealed class FolderEvaluationTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "man-seg-folder-" + Guid.NewGuid().ToString("N"));
    private readonly string pred;
    private readonly string gt;

    public FolderEvaluationTests()
    {
        pred = Directory.CreateDirectory(Path.Combine(root, "pred")).FullName;
        gt = Directory.CreateDirectory(Path.Combine(root, "gt")).FullName;
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void Folder_evaluation_equals_the_hand_worked_case_split_over_files()
    {
        // The 3×4 hand-worked maps of IoUMetricTests, as two files: rows 0–1 (4×2) and row 2 (4×1), plus an
        // extra prediction without ground truth (not evaluated). Expected: mIoU 41.111, mAcc 58.333, aAcc 60.
        byte[] label = IoUMetricTests.HandLabel.Select(v => (byte)v).ToArray();
        byte[] prediction = IoUMetricTests.HandPred.Select(v => (byte)v).ToArray();
        LabelPng.Write(Path.Combine(gt, "a.png"), new ClassMap(4, 2, label[..8]));
        LabelPng.Write(Path.Combine(pred, "a.png"), new ClassMap(4, 2, prediction[..8]));
        LabelPng.Write(Path.Combine(gt, "b.png"), new ClassMap(4, 1, label[8..]));
        LabelPng.Write(Path.Combine(pred, "b.PNG"), new ClassMap(4, 1, prediction[8..]));
        LabelPng.Write(Path.Combine(pred, "extra.png"), new ClassMap(4, 1, [2, 2, 2, 2]));
        File.WriteAllText(Path.Combine(gt, "readme.txt"), "not a label map");

        SegmentationMetrics m = SegmentationFolderEvaluation.Run(pred, gt, 3, 255, ["sky", "road", "car"]);
        Assert.Equal(41.1111111, m.MIoU, 6);
        Assert.Equal(58.3333333, m.MAcc, 6);
        Assert.Equal(60.0, m.AAcc, 9);
        Assert.Equal(10, m.ValidPixels);
        Assert.Equal(["sky", "road", "car"], m.ClassNames);
    }

    [Fact]
    public void Palette_ground_truth_is_read_by_index()
    {
        // Pillow's palette PNG of labels.json (values 0..20 and 255) against an exact greyscale copy: everything right.
        File.Copy(Fixtures.Path("png/label_palette8.png"), Path.Combine(gt, "x.png"));
        File.Copy(Fixtures.Path("png/label_gray8.png"), Path.Combine(pred, "x.png"));
        // The prediction holds 255 where the label is ignored: predictions must be classes, so replace those by 0.
        ClassMap p = LabelPng.Read(Path.Combine(pred, "x.png"));
        LabelPng.Write(Path.Combine(pred, "x.png"), new ClassMap(p.Width, p.Height, p.Pixels.Select(v => v == 255 ? (byte)0 : v).ToArray()));
        SegmentationMetrics m = SegmentationFolderEvaluation.Run(pred, gt, 21);
        Assert.Equal(100.0, m.AAcc, 9);
        Assert.Equal(100.0, m.MIoU, 9);
    }

    [Fact]
    public void Missing_predictions_are_named()
    {
        LabelPng.Write(Path.Combine(gt, "seq01_0001.png"), new ClassMap(2, 2, [0, 1, 1, 0]));
        LabelPng.Write(Path.Combine(gt, "seq01_0002.png"), new ClassMap(2, 2, [0, 1, 1, 0]));
        LabelPng.Write(Path.Combine(pred, "seq01_0001.png"), new ClassMap(2, 2, [0, 1, 1, 0]));
        var e = Assert.Throws<FileNotFoundException>(() => SegmentationFolderEvaluation.Run(pred, gt, 2));
        Assert.Contains("1 of 2", e.Message);
        Assert.Contains("seq01_0002.png", e.Message);
    }

    [Fact]
    public void Size_mismatch_names_both_files()
    {
        LabelPng.Write(Path.Combine(gt, "img.png"), new ClassMap(3, 2, new byte[6]));
        LabelPng.Write(Path.Combine(pred, "img.png"), new ClassMap(2, 3, new byte[6]));
        var e = Assert.Throws<InvalidDataException>(() => SegmentationFolderEvaluation.Run(pred, gt, 2));
        Assert.Contains(Path.Combine(pred, "img.png"), e.Message);
        Assert.Contains(Path.Combine(gt, "img.png"), e.Message);
        Assert.Contains("2×3", e.Message);
        Assert.Contains("3×2", e.Message);
    }

    [Fact]
    public void Out_of_range_labels_and_predictions_name_the_file_and_value()
    {
        LabelPng.Write(Path.Combine(gt, "img.png"), new ClassMap(3, 1, [0, 11, 255]));
        LabelPng.Write(Path.Combine(pred, "img.png"), new ClassMap(3, 1, [0, 1, 2]));
        var e = Assert.Throws<InvalidDataException>(() => SegmentationFolderEvaluation.Run(pred, gt, 11, 255));
        Assert.Contains(Path.Combine(gt, "img.png"), e.Message);
        Assert.Contains("value 11", e.Message);
        Assert.Contains("x=1, y=0", e.Message);

        // With ignore index 11 the ground truth is fine (255 is then out of range, so use a clean map), but a prediction of 11 is not.
        LabelPng.Write(Path.Combine(gt, "img.png"), new ClassMap(3, 1, [0, 11, 3]));
        LabelPng.Write(Path.Combine(pred, "img.png"), new ClassMap(3, 1, [0, 11, 3]));
        e = Assert.Throws<InvalidDataException>(() => SegmentationFolderEvaluation.Run(pred, gt, 11, 11));
        Assert.Contains(Path.Combine(pred, "img.png"), e.Message);
        Assert.Contains("prediction", e.Message);
        Assert.Contains("value 11", e.Message);
    }

    [Fact]
    public void Non_label_pngs_and_missing_folders_are_reported()
    {
        File.Copy(Fixtures.Path("png/label_rgb.png"), Path.Combine(gt, "rgb.png"));
        File.Copy(Fixtures.Path("png/label_gray8.png"), Path.Combine(pred, "rgb.png"));
        var e = Assert.Throws<InvalidDataException>(() => SegmentationFolderEvaluation.Run(pred, gt, 21));
        Assert.Contains(Path.Combine(gt, "rgb.png"), e.Message);
        Assert.Throws<DirectoryNotFoundException>(() => SegmentationFolderEvaluation.Run(Path.Combine(root, "nope"), gt, 21));
        File.Delete(Path.Combine(gt, "rgb.png"));
        Assert.Contains("no .png", Assert.Throws<FileNotFoundException>(() => SegmentationFolderEvaluation.Run(pred, gt, 21)).Message);
    }
}
