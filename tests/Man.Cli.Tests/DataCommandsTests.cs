using Man.Testing;
using Man.Vision.Data.Coco;
using Man.Vision.Data.Images;
using Man.Vision.Data.Segmentation;
using Man.Vision.Data.Synthetic;
using Man.Vision.Data.Voc;
using Newtonsoft.Json.Linq;

namespace Man.Cli.Tests;

public sealed class DataCommandsTests
{
    [Fact]
    public void Synth_writes_files_that_the_readers_read_back_with_the_summary_counts()
    {
        string dir = DataTestCli.TempDir("synth");
        string reference = DataTestCli.TempDir("synth-ref");
        try
        {
            var (code, output, err) = DataTestCli.Run("data", "synth", "--task", "detect", "--out", dir, "--n", "12", "--seed", "3");
            Assert.True(code == 0, err);
            // The same call through the library gives the expected numbers (the writer is deterministic).
            var summary = SyntheticDataWriter.Write(SyntheticTask.Detect, reference, 12, 3);
            Assert.Equal(12, summary.TrainImages + summary.ValImages);
            Assert.Contains($"12 images of 256x256 ({summary.TrainImages} train, {summary.ValImages} val)", output);
            Assert.Matches($@"total\s+{summary.Objects}\b", output);
            foreach (var (name, count) in summary.ObjectsPerClass) Assert.Matches($@"{name}\s+{count}\b", output);
            Assert.Matches(@"JPEGImages/\s+12\s", output);

            var train = CocoReader.Read(SyntheticLayout.CocoJson(dir, "train"), SyntheticLayout.ImageDir(dir));
            var val = CocoReader.Read(SyntheticLayout.CocoJson(dir, "val"), SyntheticLayout.ImageDir(dir));
            Assert.Equal(summary.TrainImages, train.Images.Count);
            Assert.Equal(summary.ValImages, val.Images.Count);
            Assert.Equal(summary.Objects, train.ObjectCount + val.ObjectCount);
            foreach (var (name, count) in summary.ObjectsPerClass)
                Assert.Equal(count, train.Images.Concat(val.Images).SelectMany(i => i.Objects).Count(o => train.Categories.NameOf(o.Label) == name));
            var voc = VocReader.Read(dir, "trainval");
            Assert.Equal(12, voc.Images.Count);
            Assert.Equal(summary.Objects, voc.ObjectCount);
            Assert.Equal(12, SegmentationReader.ReadVoc(dir, "trainval").Samples.Count);
        }
        finally
        {
            Directory.Delete(dir, true);
            Directory.Delete(reference, true);
        }
    }

    [Fact]
    public void Stats_on_synthetic_data_counts_images_objects_and_pixels_and_writes_grid_and_json()
    {
        string dir = DataTestCli.TempDir("stats");
        try
        {
            string data = Path.Combine(dir, "data");
            var summary = SyntheticDataWriter.Write(SyntheticTask.Detect, data, 10, 5);
            string grid = Path.Combine(dir, "grid.png"), json = Path.Combine(dir, "stats.json");
            var (code, output, err) = DataTestCli.Run("data", "stats", data, "--grid", grid, "--json", json);
            Assert.True(code == 0, err);
            Assert.Contains("images    10 (", output);
            Assert.Contains("warnings    (detection) no repairs, no skips", output);

            var doc = JObject.Parse(File.ReadAllText(json));
            var det = (JObject)doc["detection"]!;
            Assert.Equal(10, (int)det["images"]!);
            Assert.Equal(summary.Objects, (int)det["objects"]!);
            foreach (var c in det["per_class"]!)
                Assert.Equal(summary.ObjectsPerClass[(string)c["name"]!], (int)c["objects"]!);

            // Box sizes by the COCO area of each object (its visible mask), counted independently here.
            var objects = SyntheticLayout.Splits.SelectMany(s => CocoReader.Read(SyntheticLayout.CocoJson(data, s), SyntheticLayout.ImageDir(data)).Images)
                .SelectMany(i => i.Objects).ToList();
            Assert.Equal(objects.Count(o => o.Area < 32 * 32), (int)det["box_sizes"]!["small"]!);
            Assert.Equal(objects.Count(o => o.Area >= 32 * 32 && o.Area <= 96 * 96), (int)det["box_sizes"]!["medium"]!);
            Assert.Equal(objects.Count(o => o.Area > 96 * 96), (int)det["box_sizes"]!["large"]!);
            Assert.Equal(256.0, (double)det["image_sizes"]!["width"]!["median"]!);

            // Pixel frequencies: the label png holds the topmost object's class, the COCO masks are the visible parts,
            // so the pixels of class k are the summed mask areas of its objects.
            var seg = (JObject)doc["segmentation"]!;
            Assert.Equal(10, (int)seg["images"]!);
            Assert.Equal(10, (int)seg["images_read"]!);
            var pixels = seg["per_class"]!.ToDictionary(c => (string)c["name"]!, c => (long)c["pixels"]!);
            Assert.Equal(10L * 256 * 256, pixels.Values.Sum() + (long)seg["ignore_pixels"]!);
            var categories = CocoReader.ReadCategories(SyntheticLayout.CocoJson(data, "train"));
            foreach (var name in SyntheticShapes.Names)
                Assert.Equal(objects.Where(o => categories.NameOf(o.Label) == name).Sum(o => (long)o.Area), pixels[name]);

            var header = ImageDecoder.ReadHeader(grid);
            Assert.Equal((4 * 260 + 4, 3 * 260 + 4), (header.Width, header.Height)); // 4 columns of 256 px cells, 4 px gaps, 10 samples
            Assert.True(new FileInfo(Path.ChangeExtension(grid, ".seg.png")).Length > 1000);
            Assert.Equal(2, doc["grid"]!.Count());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [SharedDataFact]
    public void Stats_on_tiny_coco_reports_images_objects_and_coco_size_ranges()
    {
        string dir = DataTestCli.TempDir("tinycoco");
        try
        {
            string json = Path.Combine(dir, "stats.json");
            var (code, output, err) = DataTestCli.Run("data", "stats", SharedData.Path("tiny-coco"), "--json", json);
            Assert.True(code == 0, err);
            var det = JObject.Parse(File.ReadAllText(json))["detection"]!;
            Assert.Equal(16, (int)det["images"]!);
            Assert.Equal(197, (int)det["objects"]!);
            Assert.Equal(1, (int)det["crowd"]!);
            Assert.Equal((106, 60, 31), ((int)det["box_sizes"]!["small"]!, (int)det["box_sizes"]!["medium"]!, (int)det["box_sizes"]!["large"]!));
            Assert.Equal(80, det["per_class"]!.Count());
            Assert.Equal(33, (int)det["per_class"]!.Single(c => (string)c["name"]! == "person")["objects"]!);
            Assert.Contains("small (<32²) 106", output);
            Assert.Contains("large (>96²) 31", output);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [SharedDataFact]
    public void Stats_on_camvid_maps_void_to_ignore()
    {
        var (code, output, err) = DataTestCli.Run("data", "stats", SharedData.Path("camvid"), "--split", "val", "--max-label-images", "3");
        Assert.True(code == 0, err);
        Assert.Contains("CamVid", output);
        Assert.Contains("images    101 (3 label images read)", output);
        Assert.Contains("width     min 480  median 480  max 480", output);
        Assert.Contains("Bicyclist", output);
    }

    [Fact]
    public void Stats_on_a_missing_folder_fails_naming_it()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"no-such-data-{Guid.NewGuid():N}");
        var (code, _, err) = DataTestCli.Run("data", "stats", missing);
        Assert.NotEqual(0, code);
        Assert.Contains(DataTestCli.Squeeze(missing + ": the data folder does not exist"), DataTestCli.Squeeze(err));
    }

    [Fact]
    public void Stats_on_malformed_json_fails_naming_the_file_and_line()
    {
        string dir = DataTestCli.TempDir("badjson");
        try
        {
            string json = Path.Combine(dir, "instances_train.json");
            File.WriteAllText(json, "{\"images\": [],\n \"annotations\": [ {\"id\": 1,, } ],\n \"categories\": [] }");
            var (code, _, err) = DataTestCli.Run("data", "stats", dir);
            Assert.Equal(2, code);
            Assert.Contains(DataTestCli.Squeeze(json + ": line 2"), DataTestCli.Squeeze(err));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void On_bad_skip_leaves_the_bad_annotation_out_and_reports_it_while_fail_stops()
    {
        string dir = DataTestCli.TempDir("onbad");
        try
        {
            string images = Path.Combine(dir, "images");
            Directory.CreateDirectory(images);
            ImageEncoder.Save(new RgbImage(40, 30, new byte[40 * 30 * 3]), Path.Combine(images, "a.png"));
            string json = Path.Combine(dir, "instances_val.json");
            File.WriteAllText(json, """
                {"images": [{"id": 1, "file_name": "a.png", "width": 40, "height": 30}],
                 "annotations": [
                   {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 8], "area": 80, "iscrowd": 0},
                   {"id": 2, "image_id": 1, "category_id": 7, "bbox": [5, 5, 4, 4], "area": 16, "iscrowd": 0}],
                 "categories": [{"id": 1, "name": "thing"}]}
                """);
            var (failCode, _, failErr) = DataTestCli.Run("data", "stats", dir);
            Assert.Equal(2, failCode);
            Assert.Contains(DataTestCli.Squeeze(json), DataTestCli.Squeeze(failErr));
            Assert.Contains("category_id7", DataTestCli.Squeeze(failErr));

            string stats = Path.Combine(dir, "stats.json");
            var (code, output, err) = DataTestCli.Run("data", "stats", dir, "--on-bad", "skip", "--json", stats);
            Assert.True(code == 0, err);
            Assert.Contains("skipped  unknown-category x1", output);
            var doc = JObject.Parse(File.ReadAllText(stats));
            Assert.Equal(1, (int)doc["detection"]!["objects"]!);
            Assert.Equal(1, (int)doc["warnings"]!["detection"]!["skipped"]!);
            Assert.Equal("unknown-category", (string)doc["warnings"]!["detection"]!["kinds"]![0]!["kind"]!);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_corrupt_image_fails_the_grid_or_is_counted_under_skip()
    {
        string dir = DataTestCli.TempDir("badimage");
        try
        {
            string images = Path.Combine(dir, "images");
            Directory.CreateDirectory(images);
            string bad = Path.Combine(images, "b.png");
            File.WriteAllBytes(bad, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3, 4, 5, 6]);
            File.WriteAllText(Path.Combine(dir, "instances_val.json"), """
                {"images": [{"id": 1, "file_name": "b.png", "width": 40, "height": 30}],
                 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 8], "area": 80, "iscrowd": 0}],
                 "categories": [{"id": 1, "name": "thing"}]}
                """);
            string grid = Path.Combine(dir, "grid.png");
            var (failCode, _, failErr) = DataTestCli.Run("data", "stats", dir, "--grid", grid);
            Assert.Equal(2, failCode);
            Assert.Contains(DataTestCli.Squeeze(bad), DataTestCli.Squeeze(failErr));

            string json = Path.Combine(dir, "stats.json");
            var (code, output, err) = DataTestCli.Run("data", "stats", dir, "--grid", grid, "--on-bad", "skip", "--json", json);
            Assert.True(code == 0, err);
            Assert.Contains("grid        not written: " + bad, output);
            Assert.False(File.Exists(grid));
            var doc = JObject.Parse(File.ReadAllText(json));
            Assert.Equal(1, (int)doc["warnings"]!["detection"]!["skipped"]!);
            Assert.Empty(doc["grid"]!);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Synth_refuses_a_non_empty_folder_and_overwrites_only_a_synthetic_one()
    {
        string dir = DataTestCli.TempDir("synth-over");
        try
        {
            File.WriteAllText(Path.Combine(dir, "notes.txt"), "mine");
            var (code, _, err) = DataTestCli.Run("data", "synth", "--out", dir, "--n", "2", "--overwrite");
            Assert.Equal(2, code);
            Assert.Contains("refusing", err);
            File.Delete(Path.Combine(dir, "notes.txt"));

            Assert.Equal(0, DataTestCli.Run("data", "synth", "--task", "segment", "--out", dir, "--n", "4").Code);
            Assert.Equal(2, DataTestCli.Run("data", "synth", "--out", dir, "--n", "2").Code);
            var (again, _, againErr) = DataTestCli.Run("data", "synth", "--out", dir, "--n", "2", "--overwrite", "--size", "64");
            Assert.True(again == 0, againErr);
            Assert.Equal(2, Directory.GetFiles(SyntheticLayout.ImageDir(dir)).Length);
            Assert.Equal(64, ImageDecoder.ReadHeader(Directory.GetFiles(SyntheticLayout.ImageDir(dir))[0]).Width);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
