namespace Man.Vision.Backbones.Weights;

/// <summary>The file formats weights are read from and written to.</summary>
public enum WeightsFormat
{
    /// <summary>PyTorch's zip serialisation (<c>torch.save</c> since 1.6): a pickled state dict plus one record per storage.</summary>
    PyTorchZip,

    /// <summary>Hugging Face safetensors: a JSON header followed by raw little-endian tensor data.</summary>
    Safetensors,
}
