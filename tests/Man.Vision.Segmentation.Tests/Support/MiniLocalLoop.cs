using Man.Local;
using TorchSharp;
using static TorchSharp.torch;

namespace Man.Vision.Segmentation.Tests.Support;

/// <summary>
/// The engine's greedy step written out for tests (DESIGN §2, without LB/EMA): for each block k,
/// h = block_k(x.detach()); k &lt; K: aux_k.Loss(h, target).backward(), x = h.detach(); last block: main-head losses on
/// the requested unit outputs (earlier blocks' detached) and the last output, summed and back-propagated.
/// </summary>
internal sealed class MiniLocalLoop
{
    private readonly IReadOnlyList<nn.Module<Tensor, Tensor>> units;
    private readonly int[] blockEnds;

    /// <param name="units">The units, in order.</param>
    /// <param name="blockEnds">Exclusive end unit index of each block; the last equals the unit count.</param>
    public MiniLocalLoop(IReadOnlyList<nn.Module<Tensor, Tensor>> units, int[] blockEnds)
    {
        this.units = units;
        this.blockEnds = blockEnds;
    }

    public int Blocks => blockEnds.Length;

    public IEnumerable<int> UnitsOf(int block) => Enumerable.Range(block == 0 ? 0 : blockEnds[block - 1], blockEnds[block] - (block == 0 ? 0 : blockEnds[block - 1]));

    /// <summary>Runs block <paramref name="block"/> on a detached input, recording the outputs of every unit.</summary>
    public Tensor RunBlock(int block, Tensor input, Dictionary<int, Tensor> outputs)
    {
        Tensor x = input.detach();
        foreach (int u in UnitsOf(block))
        {
            x = units[u].forward(x);
            outputs[u] = x;
        }
        return x;
    }

    /// <summary>One step; returns the loss of every block (aux losses, then the main head's sum).</summary>
    public double[] Step(Tensor images, Tensor target, IReadOnlyList<AuxiliaryHead<Tensor>> auxHeads, MainHead<Tensor> mainHead)
    {
        using var scope = NewDisposeScope();
        var losses = new double[Blocks];
        var outputs = new Dictionary<int, Tensor>();
        Tensor x = images;
        for (int k = 0; k < Blocks; k++)
        {
            Tensor h = RunBlock(k, x, outputs);
            if (k < Blocks - 1)
            {
                Tensor loss = auxHeads[k].Loss(h, target);
                loss.backward();
                losses[k] = loss.item<float>();
                x = h.detach();
                foreach (int u in UnitsOf(k)) outputs[u] = outputs[u].detach();
            }
            else
            {
                var needed = mainHead.ExtraUnitOutputs.ToDictionary(i => i, i => outputs[i]);
                needed[units.Count - 1] = h;
                var named = mainHead.Losses(needed, h, target);
                Tensor total = named.Values.Aggregate((a, b) => a + b);
                total.backward();
                losses[k] = total.item<float>();
            }
        }
        return losses;
    }
}
