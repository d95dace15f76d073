using static TorchSharp.torch;

namespace Man.Vision.Backbones.Weights;

/// <summary>Name, shape and element type of a stored tensor.</summary>
public sealed record TensorInfo(string Name, long[] Shape, ScalarType DType)
{
    /// <summary>Number of elements.</summary>
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The shape as PyTorch prints it, e.g. <c>[64, 3, 7, 7]</c>.</summary>
    public string ShapeText => ShapeFormat.Of(Shape);
}

/// <summary>Shape and dtype formatting shared by reports (PyTorch's spelling).</summary>
public static class ShapeFormat
{
    /// <summary>A shape as PyTorch prints it in lists: <c>[64, 3, 7, 7]</c>.</summary>
    public static string Of(long[] shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>PyTorch's name of a dtype (float32, float16, int64, ...).</summary>
    public static string DType(ScalarType t) => t switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float16 => "float16",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float64 => "float64",
        ScalarType.Int64 => "int64",
        ScalarType.Int32 => "int32",
        ScalarType.Int16 => "int16",
        ScalarType.Int8 => "int8",
        ScalarType.Byte => "uint8",
        ScalarType.Bool => "bool",
        _ => t.ToString().ToLowerInvariant(),
    };
}
