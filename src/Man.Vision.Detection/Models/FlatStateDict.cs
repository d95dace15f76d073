using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Detection.Models;

/// <summary>
/// A state dict built from a module's recursive parameter and persistent buffer names only, without calling the
/// children's <c>state_dict</c> overrides. TorchSharp's default adds every entry by name and then calls each child
/// with a prefix lacking the trailing dot; a child override that assumes the dot adds misspelt duplicate keys
/// (e.g. <c>backbone.bodyconv1.weight</c>), which breaks strict loading of torchvision checkpoints.
/// </summary>
internal static class FlatStateDict
{
    public static Dictionary<string, Tensor> Of(nn.Module module, Dictionary<string, Tensor>? destination, string? prefix)
    {
        destination ??= new Dictionary<string, Tensor>();
        string p = string.IsNullOrEmpty(prefix) ? "" : prefix + ".";
        foreach (var (name, t) in module.named_parameters()) destination.TryAdd(p + name, t);
        foreach (var (name, t) in module.named_buffers(include_nonpersistent: false)) destination.TryAdd(p + name, t);
        return destination;
    }
}
