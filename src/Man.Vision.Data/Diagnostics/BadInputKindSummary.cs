namespace Man.Vision.Data.Diagnostics;

/// <summary>The count of one kind of repair or skip, with a few example files and details.</summary>
/// <param name="Action">Repaired or skipped.</param>
/// <param name="Kind">The kind key, e.g. <c>"extension-mismatch"</c>.</param>
/// <param name="Count">How many times it happened.</param>
/// <param name="Examples">Up to <see cref="BadInputLog.MaxExamples"/> examples, <c>"file: detail"</c>, in arrival order.</param>
public sealed record BadInputKindSummary(BadInputAction Action, string Kind, int Count, IReadOnlyList<string> Examples);
