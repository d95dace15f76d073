using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Weights;

/// <summary>
/// A model's state dict in PyTorch's order: each module's own parameters, then its own persistent buffers, then its
/// children in registration order (TorchSharp's <c>state_dict</c> lists all parameters before all buffers).
/// </summary>
public static class StateDictOrder
{
    /// <summary>(name, tensor) pairs in PyTorch's <c>state_dict()</c> order; the tensors are the model's own.</summary>
    public static IEnumerable<(string Name, Tensor Tensor)> Of(nn.Module model, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var (name, p) in model.named_parameters(recurse: false))
            yield return (prefix + name, p);
        foreach (var (name, b) in model.named_buffers(recurse: false, include_nonpersistent: false))
            yield return (prefix + name, b);
        foreach (var (name, child) in model.named_children())
            foreach (var entry in Of(child, prefix + name + "."))
                yield return entry;
    }
}
