using System.Buffers.Binary;

namespace StatsHandler;

/// <summary>
/// Names code addresses: collects the runtime's method events (a method's code range, its type, name and signature,
/// its module) and module events (a module's file), then, once sealed, finds the method an instruction pointer lies in.
/// Fed by the runtime provider's <c>MethodLoadVerbose</c> (143, methods compiled during a session) and
/// <c>ModuleLoad</c> (152), and by the rundown provider's <c>MethodDCEndVerbose</c> (144) and <c>ModuleDCEnd</c> (154),
/// which list everything loaded when the session ends.
/// </summary>
/// <remarks>
/// Payload layouts as the runtime's event manifest (<c>ClrEtwAll.man</c>) gives them: a method event starts with
/// MethodID, ModuleID, MethodStartAddress (8 bytes each), MethodSize, MethodToken, MethodFlags (4 bytes each), then the
/// UTF-16 strings MethodNamespace (the full type name), MethodName and MethodSignature; a module event starts with
/// ModuleID, AssemblyID (8 bytes each), ModuleFlags, a reserved field (4 bytes each), then ModuleILPath. Tiered
/// compilation gives one method several code ranges, all mapped to the same method by its MethodID.
/// </remarks>
internal sealed class MethodTable
{
    /// <summary>The runtime provider's <c>MethodLoadVerbose</c> and the rundown provider's <c>MethodDCEndVerbose</c>.</summary>
    public const int MethodLoadVerbose = 143, MethodDCEndVerbose = 144;

    /// <summary>The runtime provider's <c>ModuleLoad</c> and the rundown provider's <c>ModuleDCEnd</c>.</summary>
    public const int ModuleLoad = 152, ModuleDCEnd = 154;

    private readonly Dictionary<ulong, string> _modules = [];
    private readonly Dictionary<ulong, int> _methodIds = [];
    private readonly List<Method> _methods = [];
    private readonly List<(ulong Start, ulong End, int Method)> _ranges = [];
    private readonly HashSet<ulong> _rangeStarts = [];
    private ulong[] _starts = [];
    private ulong[] _ends = [];
    private int[] _rangeMethods = [];

    /// <summary>How many methods are known.</summary>
    public int Count => _methods.Count;

    /// <summary>Records a method event's payload (<see cref="MethodLoadVerbose"/>, <see cref="MethodDCEndVerbose"/>); a payload cut short is skipped.</summary>
    public void AddMethod(ReadOnlySpan<byte> payload)
    {
        const int Fixed = 8 + 8 + 8 + 4 + 4 + 4;
        if (payload.Length < Fixed)
        {
            return;
        }

        ulong methodId = BinaryPrimitives.ReadUInt64LittleEndian(payload);
        ulong moduleId = BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]);
        ulong start = BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]);
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(payload[24..]);
        if (size == 0 || !_rangeStarts.Add(start))
        {
            return; // no code, or a range already known (a method is both compiled during the session and run down at its end)
        }

        if (!_methodIds.TryGetValue(methodId, out int method))
        {
            int pos = Fixed;
            try
            {
                string type = NetTraceReader.Utf16(payload, ref pos);
                string name = NetTraceReader.Utf16(payload, ref pos);
                string signature = NetTraceReader.Utf16(payload, ref pos);
                int open = signature.IndexOf('(', StringComparison.Ordinal);
                method = _methods.Count;
                _methods.Add(new Method(type.Length > 0 ? $"{type}.{name}" : name, open >= 0 ? signature[open..] : "()", moduleId));
                _methodIds.Add(methodId, method);
            }
            catch (InvalidDataException)
            {
                _rangeStarts.Remove(start);
                return;
            }
        }

        _ranges.Add((start, start + size, method));
    }

    /// <summary>Records a module event's payload (<see cref="ModuleLoad"/>, <see cref="ModuleDCEnd"/>): its id and file.</summary>
    public void AddModule(ReadOnlySpan<byte> payload)
    {
        const int Fixed = 8 + 8 + 4 + 4;
        if (payload.Length < Fixed)
        {
            return;
        }

        ulong moduleId = BinaryPrimitives.ReadUInt64LittleEndian(payload);
        int pos = Fixed;
        try
        {
            string path = NetTraceReader.Utf16(payload, ref pos);
            _modules[moduleId] = Path.GetFileNameWithoutExtension(path.Replace('\\', '/'));
        }
        catch (InvalidDataException)
        {
            // A module without its path: its methods show without a module name.
        }
    }

    /// <summary>Sorts the code ranges for <see cref="Find"/>; call once every event has been added.</summary>
    public void Seal()
    {
        _ranges.Sort((a, b) => a.Start.CompareTo(b.Start));
        _starts = new ulong[_ranges.Count];
        _ends = new ulong[_ranges.Count];
        _rangeMethods = new int[_ranges.Count];
        for (int i = 0; i < _ranges.Count; i++)
        {
            (_starts[i], _ends[i], _rangeMethods[i]) = _ranges[i];
        }
    }

    /// <summary>The method whose code holds <paramref name="address"/>, or -1 for an address in no known method (native code, a stub).</summary>
    public int Find(ulong address)
    {
        int i = Array.BinarySearch(_starts, address);
        if (i < 0)
        {
            i = ~i - 1; // the last range starting below the address
        }

        return i >= 0 && address < _ends[i] ? _rangeMethods[i] : -1;
    }

    /// <summary>The method's name as <c>Namespace.Type.Method</c> (nested types joined by <c>+</c>, as the runtime writes them).</summary>
    public string Name(int method) => _methods[method].Name;

    /// <summary>The method's parameter list as the runtime writes it, for example <c>(int32,class System.String)</c>.</summary>
    public string Parameters(int method) => _methods[method].Parameters;

    /// <summary>The method's module (its file name without extension, for example <c>System.Private.CoreLib</c>), or empty when unknown.</summary>
    public string Module(int method) => _modules.GetValueOrDefault(_methods[method].ModuleId, "");

    private sealed record Method(string Name, string Parameters, ulong ModuleId);
}
