using Man.Local.Training;
using Newtonsoft.Json.Linq;

namespace Man.Local.Tests;

public sealed class CheckpointMetaTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("man-meta-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string Write(string name, JObject meta, int? epoch = 3, JToken? split = null)
    {
        string path = Path.Combine(dir, name);
        var header = new JObject { ["format"] = "man-vision-checkpoint", ["split"] = split ?? new JArray(0, 4, 7), ["meta"] = meta };
        if (epoch is int e) header["epoch"] = e;
        CheckpointFile.Write(path, header, [1, 2, 3]);
        return path;
    }

    [Fact]
    public void Typed_values_block_starts_and_epoch_are_read_from_the_header()
    {
        string path = Write("a.ckpt", new JObject
        {
            ["task"] = "detect", ["batch_size"] = "4", ["seed"] = "12345678901", ["scale"] = "0.25", ["flip"] = "true",
            ["aux_loss"] = "False", ["empty"] = "",
        });
        var meta = CheckpointMeta.Read(path, "detect", "detection");
        Assert.Equal(path, meta.Path);
        Assert.Equal([0, 4, 7], meta.BlockStarts);
        Assert.Equal(3, meta.EpochsDone);
        Assert.Equal(2, meta.LastEpochIndex);
        Assert.Equal(4, meta.RequireInt("batch_size"));
        Assert.Equal(4, meta.Int("batch_size"));
        Assert.Equal(12345678901L, meta.Long("seed"));
        Assert.Equal(0.25, meta.Double("scale"));
        Assert.True(meta.Bool("flip"));
        Assert.False(meta.RequireBool("aux_loss"));   // bool.ToString's "False", as the segmenter writes it
        Assert.Equal("", meta.Get("empty"));
        Assert.True(meta.Has("empty"));
        // Keys an older checkpoint lacks read as null.
        Assert.Null(meta.Int("jitter"));
        Assert.Null(meta.Bool("jitter"));
        Assert.Null(meta.Get("jitter"));
        Assert.False(meta.Has("jitter"));
        // LocalTrainer.ReadMeta gives the same values.
        Assert.Equal("12345678901", LocalTrainer<TorchSharp.torch.Tensor>.ReadMeta(path)["seed"]);
    }

    [Fact]
    public void A_header_without_an_epoch_points_at_epoch_zero()
    {
        var meta = CheckpointMeta.Read(Write("b.ckpt", new JObject { ["task"] = "segment" }, epoch: null));
        Assert.Null(meta.EpochsDone);
        Assert.Equal(0, meta.LastEpochIndex);
    }

    [Fact]
    public void Missing_malformed_and_foreign_fields_name_the_file_and_the_key()
    {
        string path = Write("c.ckpt", new JObject { ["task"] = "segment", ["crop"] = "big", ["flip"] = "yes", ["lr"] = "0,1" });
        var meta = CheckpointMeta.Read(path, "segment", "segmentation");

        var missing = Assert.Throws<CheckpointException>(() => meta.Require("arch"));
        Assert.Equal($"{path}: not a segmentation checkpoint: its metadata lacks 'arch'.", missing.Message);
        Assert.Contains("lacks 'seed'", Assert.Throws<CheckpointException>(() => meta.RequireLong("seed")).Message);

        var notInt = Assert.Throws<CheckpointException>(() => meta.Int("crop"));
        Assert.Equal($"{path}: its metadata's 'crop' is 'big', not a whole number.", notInt.Message);
        Assert.Equal($"{path}: its metadata's 'lr' is '0,1', not a number.", Assert.Throws<CheckpointException>(() => meta.Double("lr")).Message);
        Assert.Equal($"{path}: its metadata's 'flip' is 'yes', not true or false.", Assert.Throws<CheckpointException>(() => meta.Bool("flip")).Message);

        var wrongTask = Assert.Throws<CheckpointException>(() => CheckpointMeta.Read(path, "detect", "detection"));
        Assert.Equal($"{path}: a 'segment' checkpoint, not a detection one.", wrongTask.Message);
        string noTask = Write("d.ckpt", new JObject { ["arch"] = "resnet18" });
        Assert.Contains("not a detection checkpoint: its metadata lacks 'task'", Assert.Throws<CheckpointException>(() => CheckpointMeta.Read(noTask, "detect", "detection")).Message);

        string badSplit = Write("e.ckpt", new JObject { ["task"] = "detect" }, split: new JArray("a", "b"));
        Assert.Contains("block starts are malformed", Assert.Throws<CheckpointException>(() => CheckpointMeta.Read(badSplit)).Message);
    }
}
