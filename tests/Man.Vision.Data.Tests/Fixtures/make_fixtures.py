#!/usr/bin/python3
"""Reference values for Man.Vision.Data tests, from PIL / torchvision (Debian python3-torchvision).

Run with /usr/bin/python3 from this folder:  /usr/bin/python3 make_fixtures.py /path/to/shared/data
Writes cifar_pil.json (PIL decodes of a few CIFAR-10 JPEG entries) and resize.json (torchvision resize/center_crop).
"""
import base64, io, json, sys, tarfile

import numpy as np
import torch
import torchvision
import torchvision.transforms.functional as F
from PIL import Image

data = sys.argv[1] if len(sys.argv) > 1 else "../../../../shared/data"

# 1. CIFAR-10 entries decoded by PIL (torchvision's default_loader: Image.open(f).convert("RGB")).
entries = ["cifar10/train/airplane/0000.jpg", "cifar10/train/airplane/0001.jpg", "cifar10/test/truck/0999.jpg"]
out = []
with tarfile.open(f"{data}/cifar10-jpeg.tar.gz") as t:
    for name in entries:
        img = np.asarray(Image.open(io.BytesIO(t.extractfile(name).read())).convert("RGB"))
        out.append({"entry": name, "shape": list(img.shape), "hwc_base64": base64.b64encode(img.tobytes()).decode()})
with open("cifar_pil.json", "w") as f:
    json.dump({"generator": f"PIL {Image.__version__}", "images": out}, f)

# 2. torchvision resize (bilinear, antialias) of float tensors, then center crop.
def image(c, h, w):
    z = torch.arange(c * h * w, dtype=torch.float64).reshape(c, h, w)
    return ((torch.sin(z * 0.37) + 1) / 2).float()

cases = []
for (c, h, w, size, crop) in [(3, 13, 17, 8, 8), (3, 5, 7, 9, 9), (1, 20, 11, 6, 5), (3, 24, 24, 12, 10)]:
    x = image(c, h, w)
    r = F.resize(x, size, interpolation=torchvision.transforms.InterpolationMode.BILINEAR, antialias=True)
    cc = F.center_crop(r, [crop, crop])
    cases.append({"shape": [c, h, w], "size": size, "crop": crop,
                  "resized_shape": list(r.shape), "resized": r.flatten().tolist(),
                  "cropped": cc.flatten().tolist()})
with open("resize.json", "w") as f:
    json.dump({"generator": f"torch {torch.__version__}, torchvision {torchvision.__version__}",
               "input": "((sin(arange(c*h*w) * 0.37) + 1) / 2).reshape(c, h, w) computed in float64, then float32",
               "cases": cases}, f)
print("wrote cifar_pil.json, resize.json")
