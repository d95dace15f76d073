using System.Text;

namespace Man.Runtime;

/// <summary>
/// Marks chosen symbol-version requirements of an ELF64 shared library as weak
/// (<c>VER_FLG_WEAK</c> in <c>.gnu.version_r</c>), so that the dynamic loader accepts the library on a
/// system whose libstdc++ lacks those version nodes. Only a copy is ever patched.
/// </summary>
public static class ElfVersionPatcher
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    /// <summary>Lists the version names the library requires from <paramref name="fromLibrary"/> (e.g. libstdc++.so.6).</summary>
    public static IReadOnlyList<string> RequiredVersions(byte[] elf, string fromLibrary) =>
        Walk(elf, fromLibrary, null).Select(v => v.Name).ToList();

    /// <summary>
    /// Sets <c>VER_FLG_WEAK</c> on every requirement from <paramref name="fromLibrary"/> whose name satisfies
    /// <paramref name="weaken"/>. Returns the names that were weakened.
    /// </summary>
    public static IReadOnlyList<string> Weaken(byte[] elf, string fromLibrary, Func<string, bool> weaken)
    {
        var done = new List<string>();
        foreach (var (name, flagsOffset) in Walk(elf, fromLibrary, null))
        {
            if (!weaken(name)) continue;
            ushort flags = BitConverter.ToUInt16(elf, flagsOffset);
            BitConverter.TryWriteBytes(elf.AsSpan(flagsOffset, 2), (ushort)(flags | VerFlgWeak));
            done.Add(name);
        }
        return done;
    }

    private static List<(string Name, int FlagsOffset)> Walk(byte[] elf, string fromLibrary, object? _)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("only little-endian ELF64 is supported");
        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        var result = new List<(string, int)>();
        for (int i = 0; i < shnum; i++)
        {
            int sh = checked((int)(shoff + (long)i * shentsize));
            uint type = BitConverter.ToUInt32(elf, sh + 4);
            if (type != ShtGnuVerneed) continue;
            int offset = checked((int)BitConverter.ToInt64(elf, sh + 0x18));
            int link = (int)BitConverter.ToUInt32(elf, sh + 0x28);
            int info = (int)BitConverter.ToUInt32(elf, sh + 0x2C);
            int strSh = checked((int)(shoff + (long)link * shentsize));
            int strOff = checked((int)BitConverter.ToInt64(elf, strSh + 0x18));
            int vn = offset;
            for (int n = 0; n < info; n++)
            {
                int cnt = BitConverter.ToUInt16(elf, vn + 2);
                string file = CString(elf, strOff + (int)BitConverter.ToUInt32(elf, vn + 4));
                int aux = vn + (int)BitConverter.ToUInt32(elf, vn + 8);
                for (int a = 0; a < cnt; a++)
                {
                    string name = CString(elf, strOff + (int)BitConverter.ToUInt32(elf, aux + 8));
                    if (file == fromLibrary) result.Add((name, aux + 4));
                    uint nextAux = BitConverter.ToUInt32(elf, aux + 12);
                    if (nextAux == 0) break;
                    aux += (int)nextAux;
                }
                uint next = BitConverter.ToUInt32(elf, vn + 12);
                if (next == 0) break;
                vn += (int)next;
            }
        }
        return result;
    }

    private static string CString(byte[] data, int offset)
    {
        int end = Array.IndexOf(data, (byte)0, offset);
        return Encoding.ASCII.GetString(data, offset, end - offset);
    }
}
