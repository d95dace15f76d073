using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Man.Local.Training;

/// <summary>
/// The serializer of the epoch records in every task's <c>metrics.json</c>: a number that is not finite (the loss of an
/// early block with nothing to train, the gradient norm of a block that produced none) is written as JSON <c>null</c>,
/// which every JSON reader accepts, instead of Newtonsoft's default string <c>"NaN"</c>, and read back as NaN.
/// </summary>
public static class MetricsJson
{
    /// <summary>The serializer for epoch records (writing and reading).</summary>
    public static JsonSerializer Serializer { get; } = JsonSerializer.Create(new JsonSerializerSettings { Converters = { new NonFiniteAsNull() } });

    /// <summary>The epoch records as a JSON array.</summary>
    public static JArray ToArray<T>(IEnumerable<T> records) => JArray.FromObject(records, Serializer);

    /// <summary>The epoch records of a <c>metrics.json</c> document's <c>epochs</c> array (empty when it has none).</summary>
    public static List<T> ReadEpochs<T>(string path) =>
        JObject.Parse(File.ReadAllText(path))["epochs"]?.ToObject<List<T>>(Serializer) ?? [];

    /// <summary>double ↔ JSON number, with null for NaN and ±∞ (read back as NaN).</summary>
    private sealed class NonFiniteAsNull : JsonConverter<double>
    {
        public override void WriteJson(JsonWriter writer, double value, JsonSerializer serializer)
        {
            if (double.IsFinite(value)) writer.WriteValue(value);
            else writer.WriteNull();
        }

        public override double ReadJson(JsonReader reader, Type objectType, double existingValue, bool hasExistingValue, JsonSerializer serializer) =>
            reader.TokenType switch
            {
                JsonToken.Null => double.NaN,
                JsonToken.Float or JsonToken.Integer => Convert.ToDouble(reader.Value, System.Globalization.CultureInfo.InvariantCulture),
                JsonToken.String => double.Parse((string)reader.Value!, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture),
                _ => throw new JsonSerializationException($"Expected a number or null, got {reader.TokenType} at {reader.Path}."),
            };
    }
}
