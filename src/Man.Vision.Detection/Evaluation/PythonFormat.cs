using System.Globalization;

namespace Man.Vision.Detection.Evaluation;

/// <summary>
/// Python's <c>'{:0.Nf}'.format(x)</c>: the exact binary value rounded to N decimals, exact ties to even, the sign
/// of negative values (and of -0.0) kept. .NET's "F" format rounds ties away from zero, which differs for values such
/// as 0.3125.
/// </summary>
internal static class PythonFormat
{
    public static string Fixed(double value, int decimals)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsInfinity(value)) return value > 0 ? "inf" : "-inf";
        // 40 decimals hold the exact expansion far enough to tell a true tie from a value next to it.
        string exact = Math.Abs(value).ToString("F40", CultureInfo.InvariantCulture);
        int dot = exact.IndexOf('.');
        string integer = exact[..dot];
        string fraction = exact[(dot + 1)..];
        var digits = (integer + fraction[..decimals]).ToCharArray();
        string rest = fraction[decimals..];
        bool up = rest[0] > '5' || (rest[0] == '5' && (rest.AsSpan(1).ContainsAnyExcept('0') || (digits[^1] - '0') % 2 == 1));
        string body = new(digits);
        if (up)
        {
            int i = digits.Length - 1;
            while (i >= 0 && digits[i] == '9') digits[i--] = '0';
            if (i >= 0)
            {
                digits[i]++;
                body = new string(digits);
            }
            else
            {
                body = "1" + new string(digits);
            }
        }
        int intLength = body.Length - decimals;
        string text = decimals > 0 ? body[..intLength] + "." + body[intLength..] : body;
        return double.IsNegative(value) ? "-" + text : text;
    }
}
