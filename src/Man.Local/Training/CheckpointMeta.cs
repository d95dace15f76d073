using System.Globalization;
using Newtonsoft.Json.Linq;

namespace Man.Local.Training;

/// <summary>
/// A checkpoint's header, read once: the block starts and epoch the engine stores, and the task metadata passed to
/// <see cref="LocalTrainer{TTarget}.Save"/>, with typed accessors whose errors name the file and the key.
/// </summary>
/// <remarks>
/// Optional accessors return null for a key that an older checkpoint lacks and throw for a value that is present but
/// malformed: a damaged field is reported, never silently read as "absent".
/// </remarks>
public sealed class CheckpointMeta
{
    private readonly string kind;

    private CheckpointMeta(string path, JObject header, string kind)
    {
        Path = path;
        this.kind = kind;
        Values = header["meta"] is JObject meta
            ? meta.Properties().ToDictionary(p => p.Name, p => p.Value.ToString())
            : new Dictionary<string, string>();
        try
        {
            BlockStarts = header["split"]?.ToObject<int[]>() ?? [];
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or Newtonsoft.Json.JsonException)
        {
            throw new CheckpointException(path, $"its header's block starts are malformed: {header["split"]}.", e);
        }
        EpochsDone = header["epoch"]?.Type == JTokenType.Integer ? header.Value<int>("epoch") : null;
    }

    /// <summary>Reads the header of any Man.Vision checkpoint.</summary>
    /// <exception cref="CheckpointException">Missing, foreign or damaged file.</exception>
    public static CheckpointMeta Read(string path) => new(path, CheckpointFile.ReadHeader(path), "Man.Vision");

    /// <summary>
    /// Reads the header of a checkpoint of one task: its metadata's <c>task</c> must be <paramref name="task"/>
    /// (e.g. "detect"); <paramref name="kind"/> names the task in messages (e.g. "detection").
    /// </summary>
    /// <exception cref="CheckpointException">Missing, foreign or damaged file, or a checkpoint of another task.</exception>
    public static CheckpointMeta Read(string path, string task, string kind)
    {
        var meta = new CheckpointMeta(path, CheckpointFile.ReadHeader(path), kind);
        string stored = meta.Require("task");
        if (stored != task) throw new CheckpointException(path, $"a '{stored}' checkpoint, not a {kind} one.");
        return meta;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The task metadata, as stored (every value a string).</summary>
    public IReadOnlyDictionary<string, string> Values { get; }

    /// <summary>The first unit of each local block (the split the checkpoint was trained with).</summary>
    public IReadOnlyList<int> BlockStarts { get; }

    /// <summary>Epochs completed when the checkpoint was written, or null when the header lacks it.</summary>
    public int? EpochsDone { get; }

    /// <summary>The 0-based epoch whose end the checkpoint holds (epoch 0 when the header does not say).</summary>
    public int LastEpochIndex => Math.Max(0, (EpochsDone ?? 1) - 1);

    /// <summary>Whether the metadata has <paramref name="key"/>.</summary>
    public bool Has(string key) => Values.ContainsKey(key);

    /// <summary>The value of <paramref name="key"/>, or null when the checkpoint lacks it.</summary>
    public string? Get(string key) => Values.TryGetValue(key, out var v) ? v : null;

    /// <summary>The value of <paramref name="key"/>.</summary>
    /// <exception cref="CheckpointException">The checkpoint lacks it.</exception>
    public string Require(string key) => Values.TryGetValue(key, out var v) ? v : throw Missing(key);

    /// <summary>An integer the checkpoint must have.</summary>
    /// <exception cref="CheckpointException">Missing or not an integer.</exception>
    public int RequireInt(string key) => Parse(key, Require(key), ParseInt);

    /// <summary>A 64-bit integer the checkpoint must have.</summary>
    /// <exception cref="CheckpointException">Missing or not an integer.</exception>
    public long RequireLong(string key) => Long(key) ?? throw Missing(key);

    /// <summary>A number the checkpoint must have.</summary>
    /// <exception cref="CheckpointException">Missing or not a number.</exception>
    public double RequireDouble(string key) => Double(key) ?? throw Missing(key);

    /// <summary>A flag the checkpoint must have.</summary>
    /// <exception cref="CheckpointException">Missing or neither "true" nor "false".</exception>
    public bool RequireBool(string key) => Bool(key) ?? throw Missing(key);

    /// <summary>An integer, or null when the checkpoint lacks it.</summary>
    /// <exception cref="CheckpointException">Present but not an integer.</exception>
    public int? Int(string key) => Get(key) is string v ? Parse(key, v, ParseInt) : null;

    /// <summary>A 64-bit integer, or null when the checkpoint lacks it.</summary>
    /// <exception cref="CheckpointException">Present but not an integer.</exception>
    public long? Long(string key) =>
        Get(key) is string v ? Parse(key, v, s => long.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture)) : null;

    /// <summary>A number, or null when the checkpoint lacks it.</summary>
    /// <exception cref="CheckpointException">Present but not a number.</exception>
    public double? Double(string key) =>
        Get(key) is string v ? Parse(key, v, s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture)) : null;

    /// <summary>A flag stored as "true"/"false", or null when the checkpoint lacks it.</summary>
    /// <exception cref="CheckpointException">Present but neither "true" nor "false".</exception>
    public bool? Bool(string key) => Get(key) switch
    {
        null => null,
        "true" or "True" => true,
        "false" or "False" => false,
        string v => throw new CheckpointException(Path, $"its metadata's '{key}' is '{v}', not true or false."),
    };

    private CheckpointException Missing(string key) => new(Path, $"not a {kind} checkpoint: its metadata lacks '{key}'.");

    private static int ParseInt(string s) => int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture);

    private T Parse<T>(string key, string value, Func<string, T> parse)
    {
        try
        {
            return parse(value);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new CheckpointException(Path, $"its metadata's '{key}' is '{value}', not a {(typeof(T) == typeof(double) ? "number" : "whole number")}.", e);
        }
    }
}
