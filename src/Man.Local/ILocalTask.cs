namespace Man.Local;

/// <summary>What a task supplies to the engine: its main head and a factory of auxiliary heads.</summary>
/// <typeparam name="TTarget">The task's target type.</typeparam>
public interface ILocalTask<TTarget>
{
    /// <summary>The task's real head, trained with the last block.</summary>
    MainHead<TTarget> MainHead { get; }

    /// <summary>A new auxiliary head for an early block, for features of the given shape.</summary>
    AuxiliaryHead<TTarget> CreateAuxiliaryHead(AuxiliaryHeadContext context);
}
