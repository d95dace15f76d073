#!/usr/bin/python3
"""Reference numbers of torchvision's GeneralizedRCNNTransform resize for ResizeByMinMaxSideTests.

Run with Debian's /usr/bin/python3 (torch 1.13, torchvision 0.14). The input image is
img[c, y, x] = ((31c + 7y + 13x) % 255) / 255, the masks mask[i, y, x] = ((x + 2y + i) % 3 == 0).
"""
import json

import torch
from torchvision.models.detection.transform import GeneralizedRCNNTransform


def main():
    cases = []
    for (h, w, min_size, max_size) in [(37, 53, 50, 70), (60, 41, 30, 100), (23, 90, 40, 80)]:
        c, y, x = torch.meshgrid(torch.arange(3), torch.arange(h), torch.arange(w), indexing="ij")
        img = ((31 * c + 7 * y + 13 * x) % 255).float() / 255
        i, yy, xx = torch.meshgrid(torch.arange(2), torch.arange(h), torch.arange(w), indexing="ij")
        masks = ((xx + 2 * yy + i) % 3 == 0).to(torch.uint8)
        boxes = torch.tensor([[1.5, 2.0, 20.25, 17.0], [0.0, 0.0, float(w), float(h)]])
        t = GeneralizedRCNNTransform(min_size, max_size, image_mean=[0, 0, 0], image_std=[1, 1, 1])
        t.eval()
        out_img, out_t = t.resize(img, {"boxes": boxes.clone(), "masks": masks.clone()})
        cases.append({
            "h": h, "w": w, "min_size": min_size, "max_size": max_size,
            "out_h": out_img.shape[1], "out_w": out_img.shape[2],
            "image_sum": float(out_img.double().sum()),
            "image_first_row": [float(v) for v in out_img[0, 0, :8]],
            "image_center": float(out_img[1, out_img.shape[1] // 2, out_img.shape[2] // 2]),
            "boxes": out_t["boxes"].tolist(),
            "mask_sums": [int(v) for v in out_t["masks"].flatten(1).sum(1)],
            "mask_row3": [int(v) for v in out_t["masks"][1, 3, :16]],
        })
    with open("resize_reference.json", "w") as f:
        json.dump(cases, f, indent=1)


if __name__ == "__main__":
    main()
