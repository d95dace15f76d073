using Man.Vision.Data.Synthetic;
using Man.Vision.Detection.Training;

namespace Man.Vision.Detection.Tests.Training;

/// <summary>What <c>man-vision data synth</c> writes opens again with <c>--data coco:…</c> (folder or json) and <c>voc:…</c>.</summary>
public sealed class DetectionDataTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("man-detdata-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void A_rendered_synthetic_set_opens_as_a_coco_folder_a_coco_json_and_a_voc_folder()
    {
        SyntheticDataWriter.Write(SyntheticTask.Detect, dir, 20, seed: 5);
        var synth = Newtonsoft.Json.Linq.JObject.Parse(File.ReadAllText(SyntheticLayout.CocoJson(dir, "val")));
        int valImages = synth["images"]!.Count(), valObjects = synth["annotations"]!.Count();

        var folder = DetectionData.Open("coco:" + dir);
        Assert.Equal(DetectionDataKind.Coco, folder.Kind);
        Assert.False(folder.ValIsTrain);
        Assert.Equal(20, folder.Train.Images.Count + folder.Val.Images.Count);
        Assert.Equal(valImages, folder.Val.Images.Count);
        Assert.Equal(valObjects, folder.Val.ObjectCount);
        Assert.Equal(["circle", "square", "triangle", "star", "cross"], folder.Classes);
        Assert.All(folder.Val.Images, r => Assert.True(File.Exists(r.FilePath), r.FilePath));

        // One json on its own: its images are found in ../JPEGImages and evaluated as they are.
        var single = DetectionData.Open("coco:" + SyntheticLayout.CocoJson(dir, "val"));
        Assert.True(single.ValIsTrain);
        Assert.Equal(valObjects, single.Val.ObjectCount);
        Assert.Equal(folder.Val.Images.Select(r => r.FilePath), single.Val.Images.Select(r => r.FilePath));

        var voc = DetectionData.Open("voc:" + dir);
        Assert.Equal(valImages, voc.Val.Images.Count);
        Assert.Equal(valObjects, voc.Val.ObjectCount);
    }
}
