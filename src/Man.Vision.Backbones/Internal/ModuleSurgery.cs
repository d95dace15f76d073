using System.Reflection;
using TorchSharp;

namespace Man.Vision.Backbones.Internal;

/// <summary>Replaces a registered child module in place (same name, same position in the state dict).</summary>
internal static class ModuleSurgery
{
    private static readonly FieldInfo Submodules =
        typeof(torch.nn.Module).GetField("_internal_submodules", BindingFlags.NonPublic | BindingFlags.Instance)
        ?? throw new MissingFieldException("TorchSharp's Module no longer has the field _internal_submodules this library relies on.");

    /// <summary>Registers <paramref name="replacement"/> under the existing child name <paramref name="name"/>.</summary>
    public static void ReplaceChild(torch.nn.Module parent, string name, torch.nn.Module replacement)
    {
        var dict = (TorchSharp.Utils.OrderedDict<string, torch.nn.Module>)Submodules.GetValue(parent)!;
        if (!dict.ContainsKey(name))
            throw new InvalidOperationException($"{parent.GetType().Name} has no child module '{name}' to replace.");
        dict[name] = replacement;
    }
}
