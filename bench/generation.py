"""Benchmark: the local generator's jobs per second and the restoration of a 12 MP photo.

Each measurement runs in a child process of its own so that its peak memory (ru_maxrss) is the
worker's alone. Prints figures, never asserts a speed.

    uv run python -m bench.generation [--jobs 20]
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import time

from bench import ROOT


def generate(jobs: int) -> dict[str, float]:
    from atelier_generation.generators import ImageRequest, render_images

    started = time.perf_counter()
    for n in range(jobs):
        render_images(ImageRequest(model="flux-pro", prompt=f"figure study {n}", seed=n,
                                   filters={"pose": "standing", "lighting": "soft"}))
    elapsed = time.perf_counter() - started
    return {"jobs": jobs, "seconds": elapsed, "jobs_per_second": jobs / elapsed,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def restore() -> dict[str, float]:
    from PIL import Image, ImageFilter

    from atelier_generation.generators import restore_photo

    # A 4000×3000 (12 MP) JPEG with noise and blur, like a scanned old photo.
    image = Image.effect_noise((4000, 3000), 60).convert("RGB").filter(ImageFilter.GaussianBlur(2))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    data = buffer.getvalue()
    del image
    started = time.perf_counter()
    restored = restore_photo(data)
    elapsed = time.perf_counter() - started
    with Image.open(io.BytesIO(restored)) as out:
        size = out.size
    return {"input_mb": len(data) / 1e6, "output_size": f"{size[0]}x{size[1]}", "seconds": elapsed,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--child", choices=["generate", "restore"])
    args = parser.parse_args()
    if args.child == "generate":
        print(json.dumps(generate(args.jobs)))
        return
    if args.child == "restore":
        print(json.dumps(restore()))
        return

    def child(kind: str) -> dict:
        out = subprocess.run([sys.executable, "-m", "bench.generation", "--child", kind, "--jobs", str(args.jobs)],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    gen = child("generate")
    res = child("restore")
    print(f"local generator: {gen['jobs']} jobs (flux-pro, 512 px, batch 1) in {gen['seconds']:.2f}s "
          f"= {gen['jobs_per_second']:.1f} jobs/s, peak RSS {gen['peak_rss_mb']:.0f} MB")
    print(f"restoration of a 12 MP photo ({res['input_mb']:.1f} MB JPEG → {res['output_size']}): "
          f"{res['seconds']:.2f}s, worker peak RSS {res['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
