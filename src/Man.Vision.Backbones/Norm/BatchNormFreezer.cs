using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Backbones.Norm;

/// <summary>Turns the <c>BatchNorm2d</c> layers of a model into <see cref="FrozenBatchNorm2d"/>, keeping their values.</summary>
public static class BatchNormFreezer
{
    /// <summary>
    /// Replaces every <c>BatchNorm2d</c> under <paramref name="root"/> (the root included) by a
    /// <see cref="FrozenBatchNorm2d"/> carrying its weight, bias, running statistics and eps. Registered names
    /// are unchanged, so state-dict keys stay the same except that <c>num_batches_tracked</c> disappears
    /// (as with torchvision's frozen layers).
    /// </summary>
    /// <returns>The number of layers converted.</returns>
    /// <exception cref="InvalidOperationException">
    /// A BatchNorm2d sits in a module that cannot swap its children (not an <see cref="INormHost"/>).
    /// </exception>
    public static int ConvertToFrozen(nn.Module root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var hosts = new List<(string Path, INormHost Host)>();
        foreach (var (path, module) in root.named_modules().Prepend(("", root)))
        {
            if (module is INormHost host)
            {
                hosts.Add((path, host));
                continue;
            }
            foreach (var (childName, child) in module.named_children())
            {
                if (child is TorchSharp.Modules.BatchNorm2d)
                {
                    string where = path.Length == 0 ? childName : $"{path}.{childName}";
                    throw new InvalidOperationException(
                        $"Cannot freeze the BatchNorm2d '{where}': its parent ({module.GetType().Name}) cannot replace children. " +
                        "Build the model with NormKind.FrozenBatchNorm instead and load the weights into it.");
                }
            }
        }

        int converted = 0;
        foreach (var (_, host) in hosts.DistinctBy(h => h.Host))
        {
            foreach (var (name, norm) in host.NormLayers.ToList())
            {
                if (norm is TorchSharp.Modules.BatchNorm2d bn)
                {
                    host.ReplaceNorm(name, FrozenBatchNorm2d.From(bn));
                    converted++;
                }
            }
        }
        return converted;
    }
}
