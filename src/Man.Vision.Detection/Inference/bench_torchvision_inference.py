#!/usr/bin/python3
"""Inference speed of torchvision's fasterrcnn_resnet50_fpn (random weights) on one random image size.

The reference side of `man-vision bench detect-inference`; run with Debian's python3-torch/python3-torchvision:

    /usr/bin/python3 bench_torchvision_inference.py --height 800 --width 1216 --images 3 --warmup 1 --threads 2

The transform's min/max size are set to the image's sides, so the image is not resized (as on the C# side).
Prints one json line: seconds per image (median of the timed images), images/s, versions, threads.
With --save-weights PATH the random weights are saved, so that both sides run the identical model (same detections,
hence the same post-processing work).
"""
import argparse
import json
import statistics
import time

import torch
import torchvision


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--height", type=int, default=800)
    p.add_argument("--width", type=int, default=1216)
    p.add_argument("--images", type=int, default=3, help="timed images (one forward each, batch 1)")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save-weights", default=None, help="also save the model's random weights here (.pth), for the C# side to load")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = torchvision.models.detection.fasterrcnn_resnet50_fpn(
        weights=None, weights_backbone=None, num_classes=91,
        min_size=min(a.height, a.width), max_size=max(a.height, a.width))
    model.eval()
    if a.save_weights:
        torch.save(model.state_dict(), a.save_weights)
    g = torch.Generator().manual_seed(a.seed)
    image = torch.rand(3, a.height, a.width, generator=g)
    times = []
    with torch.no_grad():
        for i in range(a.warmup + a.images):
            t0 = time.perf_counter()
            out = model([image])
            dt = time.perf_counter() - t0
            if i >= a.warmup:
                times.append(dt)
    median = statistics.median(times)
    print(json.dumps({
        "implementation": "torchvision",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "threads": torch.get_num_threads(),
        "height": a.height,
        "width": a.width,
        "images": a.images,
        "seconds_per_image": median,
        "images_per_second": 1.0 / median,
        "all_seconds": times,
        "detections_last_image": int(out[0]["boxes"].shape[0]),
    }))


if __name__ == "__main__":
    main()
