using System.Reflection;

namespace Man.Runtime;

/// <summary>Facts fixed at build time.</summary>
public static class BuildInfo
{
    /// <summary>The TorchSharp backend this build references: cpu, cpu-all or cuda.</summary>
    public static string TorchBackend =>
        typeof(BuildInfo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "TorchBackend")?.Value ?? "unknown";

    /// <summary>The informational version of Man.Vision.</summary>
    public static string Version =>
        typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>The version of the TorchSharp assembly in use.</summary>
    public static string TorchSharpVersion =>
        typeof(TorchSharp.torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "unknown";
}
