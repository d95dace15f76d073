using System.Diagnostics;
using Xunit.Abstractions;

namespace Man.Cli.Tests;

/// <summary>
/// A oneDNN ISA cap set before the program starts reaches oneDNN, and the convolution check judges the capped kernels
/// (and says so).
/// </summary>
public sealed class OneDnnIsaTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_capped_onednn_is_what_the_convolution_check_judges()
    {
        if (!OperatingSystem.IsLinux()) return;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "man-vision.dll"));
        psi.ArgumentList.Add("info");
        psi.Environment.Remove("MAN_ONEDNN");
        psi.Environment["ONEDNN_MAX_CPU_ISA"] = "SSE41";
        psi.Environment["ONEDNN_VERBOSE"] = "1";
        using var p = Process.Start(psi)!;
        var errTask = p.StandardError.ReadToEndAsync();
        string stdout = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        string stderr = await errTask;
        output.WriteLine(stdout + stderr);
        Assert.Equal(0, p.ExitCode);

        // oneDNN's own verbose line names the ISA it runs with.
        Assert.Contains("isa:Intel SSE4.1", stdout + stderr);
        string text = Flat(stdout);
        Assert.Contains("oneDNN ISA capped to SSE41 (ONEDNN_MAX_CPU_ISA)", text);
        // The check ran on the capped kernels: kept with its verdict, or turned off saying the cap failed too.
        bool kept = text.Contains("oneDNN on (libtorch's default; checked before anything trains)", StringComparison.Ordinal);
        Assert.Contains(kept
            ? "convolution gradients checked: oneDNN's convolution gradients equal ATen's on junk-filled memory (ISA capped to SSE41)"
            : "oneDNN off (the convolution check failed with the ISA capped to SSE41; MAN_ONEDNN=on keeps it)", text);
    }

    /// <summary>The table's rows as "item value" lines, each with its value's wrapped lines joined.</summary>
    private static string Flat(string table)
    {
        var rows = new List<(string Item, string Value)>();
        foreach (var cells in table.Split('\n').Select(l => l.Split('│')).Where(c => c.Length >= 4))
        {
            string item = cells[1].Trim(), value = cells[2].Trim();
            if (item.Length > 0 || rows.Count == 0) rows.Add((item, value));
            else rows[^1] = (rows[^1].Item, (rows[^1].Value + " " + value).Trim());
        }
        return string.Join("\n", rows.Select(r => r.Item + " " + r.Value));
    }
}
