using TorchSharp.Modules;

namespace Man.Vision.Backbones.FineTuning;

/// <summary>Parameters trained with one learning rate (e.g. the backbone at a tenth of the head's rate).</summary>
/// <param name="Name">"backbone" or "head".</param>
/// <param name="Parameters">The trainable parameters of the group.</param>
/// <param name="LearningRate">The group's learning rate.</param>
public sealed record ParameterGroup(string Name, IReadOnlyList<Parameter> Parameters, double LearningRate)
{
    /// <summary>The group for TorchSharp's SGD (other optimisers take the same parameters and rate).</summary>
    public SGD.ParamGroup ToSgd(double momentum = 0, double weightDecay = 0, bool nesterov = false) =>
        new(Parameters, lr: LearningRate, momentum: momentum, dampening: 0, weight_decay: weightDecay, nesterov: nesterov, maximize: false);
}
