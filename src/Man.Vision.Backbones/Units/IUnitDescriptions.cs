namespace Man.Vision.Backbones.Units;

/// <summary>A unit sequence that can describe its units' output shapes and costs for a given input size.</summary>
public interface IUnitDescriptions
{
    /// <summary>One entry per unit, in unit order, for one sample of <paramref name="inputHeight"/>×<paramref name="inputWidth"/>.</summary>
    UnitInfo[] DescribeUnits(long inputHeight, long inputWidth);
}
