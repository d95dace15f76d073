namespace Man.Vision.Data.Records;

/// <summary>
/// Category ids of a source file ↔ contiguous labels: the categories sorted by id get labels 1..C, label 0
/// is the background (torchvision's detection convention; detectron2's contiguous id is <c>label − 1</c>).
/// </summary>
public sealed class CategoryMap
{
    private readonly Category[] _byLabel;
    private readonly Dictionary<int, int> _labelById;

    /// <summary>Creates the map.</summary>
    /// <exception cref="ArgumentException">Two categories share an id or a name is empty.</exception>
    public CategoryMap(IEnumerable<Category> categories)
    {
        ArgumentNullException.ThrowIfNull(categories);
        _byLabel = categories.OrderBy(c => c.Id).ToArray();
        _labelById = new Dictionary<int, int>(_byLabel.Length);
        for (int i = 0; i < _byLabel.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(_byLabel[i].Name))
                throw new ArgumentException($"Category id {_byLabel[i].Id} has no name.");
            if (!_labelById.TryAdd(_byLabel[i].Id, i + 1))
                throw new ArgumentException($"Category id {_byLabel[i].Id} occurs twice.");
        }
    }

    /// <summary>The categories in label order (label = index + 1).</summary>
    public IReadOnlyList<Category> Categories => _byLabel;

    /// <summary>C, the number of object categories.</summary>
    public int Count => _byLabel.Length;

    /// <summary>C + 1: the number of classes a detector predicts, background included.</summary>
    public int NumClassesWithBackground => _byLabel.Length + 1;

    /// <summary>The label (1..C) of a category id.</summary>
    /// <exception cref="KeyNotFoundException">The id is not in the category list.</exception>
    public int LabelOf(int categoryId) => _labelById.TryGetValue(categoryId, out int l)
        ? l
        : throw new KeyNotFoundException($"Category id {categoryId} is not in the category list ({DescribeIds()}).");

    /// <summary>Tries to find the label of a category id.</summary>
    public bool TryGetLabel(int categoryId, out int label) => _labelById.TryGetValue(categoryId, out label);

    /// <summary>The category id of a label 1..C.</summary>
    public int CategoryIdOf(int label) => CategoryOf(label).Id;

    /// <summary>The category of a label 1..C.</summary>
    public Category CategoryOf(int label) => label >= 1 && label <= _byLabel.Length
        ? _byLabel[label - 1]
        : throw new ArgumentOutOfRangeException(nameof(label), $"Label {label} is outside 1..{_byLabel.Length}.");

    /// <summary>The name of a label; "background" for 0.</summary>
    public string NameOf(int label) => label == 0 ? "background" : CategoryOf(label).Name;

    /// <summary>Class names indexed by label, "background" first (length C + 1).</summary>
    public IReadOnlyList<string> NamesWithBackground() => ["background", .. _byLabel.Select(c => c.Name)];

    private string DescribeIds()
    {
        var ids = _byLabel.Select(c => c.Id).ToArray();
        return ids.Length <= 12 ? $"ids {string.Join(", ", ids)}" : $"{ids.Length} ids from {ids[0]} to {ids[^1]}";
    }
}
