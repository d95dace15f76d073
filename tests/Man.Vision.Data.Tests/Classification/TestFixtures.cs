namespace Man.Vision.Data.Tests.Classification;

/// <summary>Finds this test project's committed fixtures (tests/Man.Vision.Data.Tests/Fixtures) from the build output.</summary>
internal static class TestFixtures
{
    public static string Path(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null)
        {
            string candidate = System.IO.Path.Combine(dir.FullName, "Fixtures", name);
            if (File.Exists(candidate)) return candidate;
            candidate = System.IO.Path.Combine(dir.FullName, "tests", "Man.Vision.Data.Tests", "Fixtures", name);
            if (File.Exists(candidate)) return candidate;
            dir = dir.Parent;
        }
        throw new FileNotFoundException($"Fixture '{name}' not found above {AppContext.BaseDirectory} (expected in tests/Man.Vision.Data.Tests/Fixtures).");
    }
}
