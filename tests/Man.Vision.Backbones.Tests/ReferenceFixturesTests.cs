namespace Man.Vision.Backbones.Tests;

public sealed class ReferenceFixturesTests
{
    [Fact]
    public void AMissingPythonGivesAnInstallHint()
    {
        string? message = ReferenceFixtures.PythonProblem("/nonexistent/python3");
        Assert.NotNull(message);
        Assert.Contains("/nonexistent/python3 does not exist", message);
        Assert.Contains("apt-get install python3-torch python3-torchvision", message);
    }

    [Fact]
    public void DebianPythonWithTorchvisionIsAvailable() => Assert.Null(ReferenceFixtures.PythonProblem(ReferenceFixtures.Python));
}
