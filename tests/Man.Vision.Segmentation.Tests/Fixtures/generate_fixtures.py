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
  png/label_*.png, png/labels.json
                               37x23 label maps written by Pillow as 8-bit greyscale, 8-bit palette (VOC colours),
                               4-bit palette, 16-bit greyscale and RGB (to be rejected), with the values they hold.
"""
import json
import os

import numpy as np
import torch
from PIL import Image
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
    label_pngs()
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


def voc_palette():
    palette = []
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette += [r, g, b]
    return palette


def label_pngs():
    out = os.path.join(HERE, "png")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 21, size=(23, 37)).astype(np.uint8)
    labels[rng.random((23, 37)) < 0.1] = 255
    labels[5:9, 10:20] = 3  # flat areas exercise the Sub/Up/Paeth filters Pillow picks
    small = (labels % 16).astype(np.uint8)
    Image.fromarray(labels, mode="L").save(os.path.join(out, "label_gray8.png"))
    pal = Image.fromarray(labels, mode="P")
    pal.putpalette(voc_palette())
    pal.save(os.path.join(out, "label_palette8.png"))
    pal4 = Image.fromarray(small, mode="P")
    pal4.putpalette(voc_palette()[:48])
    pal4.save(os.path.join(out, "label_palette4.png"), bits=4)
    Image.fromarray(labels.astype(np.uint16), mode="I;16").save(os.path.join(out, "label_gray16.png"))
    Image.fromarray(np.stack([labels] * 3, axis=-1), mode="RGB").save(os.path.join(out, "label_rgb.png"))
    with open(os.path.join(out, "labels.json"), "w") as f:
        json.dump({"width": 37, "height": 23, "labels": labels.reshape(-1).tolist(), "labels_mod16": small.reshape(-1).tolist()}, f)


if __name__ == "__main__":
    main()
