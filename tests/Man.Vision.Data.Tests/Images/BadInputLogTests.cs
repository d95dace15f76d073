using Man.Vision.Data.Diagnostics;

namespace Man.Vision.Data.Tests.Images;

public sealed class BadInputLogTests
{
    [Fact]
    public void Counts_by_kind_keeps_three_examples_and_merges()
    {
        var log = new BadInputLog(OnBad.Skip);
        for (int i = 0; i < 5; i++) log.Repaired("rgba-to-rgb", $"f{i}.png", "alpha dropped");
        log.Handle(new BadInputException("truncated-image", "bad.jpg", "truncated"));
        Assert.Equal(5, log.RepairCount);
        Assert.Equal(1, log.SkipCount);
        var s = log.Summaries();
        Assert.Equal(2, s.Count);
        Assert.Equal(BadInputAction.Repaired, s[0].Action);
        Assert.Equal(new[] { "f0.png: alpha dropped", "f1.png: alpha dropped", "f2.png: alpha dropped" }, s[0].Examples);
        Assert.Equal("bad.jpg: truncated", Assert.Single(s[1].Examples));
        string text = log.ToString();
        Assert.StartsWith("5 repaired, 1 skipped", text);
        Assert.Contains("rgba-to-rgb x5", text);

        var other = new BadInputLog();
        other.Repaired("rgba-to-rgb", "g.png", "x");
        other.Merge(log);
        Assert.Equal(6, other.Count("rgba-to-rgb", BadInputAction.Repaired));
        Assert.Equal(1, other.Count("truncated-image", BadInputAction.Skipped));
    }

    [Fact]
    public void Fail_policy_throws_the_problem()
    {
        var log = new BadInputLog(OnBad.Fail);
        var e = Assert.Throws<BadInputException>(() => log.Handle(new BadInputException("k", "a.xml", "line 3: bad")));
        Assert.Equal("a.xml: line 3: bad", e.Message);
        Assert.True(log.IsEmpty);
        Assert.Equal("no repairs, no skips", log.ToString());
    }
}
