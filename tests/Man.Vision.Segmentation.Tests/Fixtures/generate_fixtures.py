#!/usr/bin/python3
"""Generates the torchvision reference fixtures of Man.Vision.Segmentation.Tests.

Run with Debian's python3-torch / python3-torchvision (torch 1.13, torchvision 0.14):
    /usr/bin/python3 tests/Man.Vision.Segmentation.Tests/Fixtures/generate_fixtures.py

Writes, next to this script:
  torchvision_state_names.txt  "<model> <key> <shape>" for every state-dict entry of
                               deeplabv3_resnet50 / fcn_resnet50 (aux_loss=True, 21 classes) and of the bare heads
                               DeepLabHead(2048, 21) and FCNHead(1024, 21).
  heads_numeric.json           a narrow DeepLabV3 head (ASPP width 16, rates 2/3/4) and an FCNHead on 8 input channels,
                               with random weights and random BatchNorm statistics, one 13x17 input and the eval-mode
                               outputs.
"""
import json
import os

import torch
from torch import nn
from torchvision.models.segmentation import deeplabv3_resnet50, fcn_resnet50
from torchvision.models.segmentation.deeplabv3 import ASPP, DeepLabHead
from torchvision.models.segmentation.fcn import FCNHead

HERE = os.path.dirname(os.path.abspath(__file__))


def names(prefix, module):
    return [f"{prefix} {k} {'x'.join(str(s) for s in v.shape) or 'scalar'}" for k, v in module.state_dict().items()]


def randomise(module, gen):
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.uniform_(-0.2, 0.2, generator=gen)
                m.running_mean.uniform_(-0.3, 0.3, generator=gen)
                m.running_var.uniform_(0.5, 2.0, generator=gen)
            elif isinstance(m, nn.Conv2d):
                m.weight.normal_(0.0, 0.2, generator=gen)
                if m.bias is not None:
                    m.bias.uniform_(-0.1, 0.1, generator=gen)


def tensor_json(t):
    return {"shape": list(t.shape), "data": [float(f"{v:.8g}") for v in t.detach().reshape(-1).tolist()]}


def main():
    torch.manual_seed(0)
    lines = []
    lines += names("deeplabv3_resnet50", deeplabv3_resnet50(weights=None, weights_backbone=None, aux_loss=True))
    lines += names("fcn_resnet50", fcn_resnet50(weights=None, weights_backbone=None, aux_loss=True))
    lines += names("DeepLabHead_2048_21", DeepLabHead(2048, 21))
    lines += names("FCNHead_1024_21", FCNHead(1024, 21))
    with open(os.path.join(HERE, "torchvision_state_names.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")

    gen = torch.Generator().manual_seed(1234)
    # DeepLabHead's structure with torchvision's ASPP at a narrow width (DeepLabHead fixes 256 and rates 12/24/36).
    deeplab = nn.Sequential(
        ASPP(8, [2, 3, 4], out_channels=16),
        nn.Conv2d(16, 16, 3, padding=1, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.Conv2d(16, 3, 1),
    )
    fcn = FCNHead(8, 3)
    randomise(deeplab, gen)
    randomise(fcn, gen)
    deeplab.eval()
    fcn.eval()
    x = torch.randn(2, 8, 13, 17, generator=gen)
    with torch.no_grad():
        out_deeplab = deeplab(x)
        out_fcn = fcn(x)
    fixture = {
        "input": tensor_json(x),
        "deeplab": {"in_channels": 8, "num_classes": 3, "channels": 16, "rates": [2, 3, 4],
                    "state": {k: tensor_json(v) for k, v in deeplab.state_dict().items() if v.dtype == torch.float32},
                    "output": tensor_json(out_deeplab)},
        "fcn": {"in_channels": 8, "num_classes": 3,
                "state": {k: tensor_json(v) for k, v in fcn.state_dict().items() if v.dtype == torch.float32},
                "output": tensor_json(out_fcn)},
    }
    with open(os.path.join(HERE, "heads_numeric.json"), "w") as f:
        json.dump(fixture, f)


if __name__ == "__main__":
    main()
