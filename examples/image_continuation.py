"""The paper's Figure 3 with any predictors: continue 32×64 grayscale patches.

    python examples/image_continuation.py [OUT_DIR] [--models gzip,zstd,llm] [--seed 0]

Writes OUT_DIR/image_rows.png (each row's second half generated from its first half and
the rows above) and OUT_DIR/image_raster.png (the bottom half generated from the top
half): one line per photograph — original, context with the hidden part masked, one
panel per model.
"""

from __future__ import annotations

import time

from _shared import arguments, load_models

from gencomp.continuation import Sampling, continue_image
from gencomp.modalities import crop_patch, load_image
from gencomp.render import grid, masked, png_bytes

PHOTOS = {"camera": (210, 200), "coins": (150, 160)}  # bundled photograph: (top, left) of the patch


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    models = load_models(args.models)
    patches = {name: crop_patch(load_image(name).pixels, top=top, left=left) for name, (top, left) in PHOTOS.items()}
    for mode in ("rows", "raster"):
        panels = []
        for name, patch in patches.items():
            results = []
            for spec, predictor in models.items():
                start = time.perf_counter()
                result = continue_image(predictor, patch, mode, sampling=Sampling(seed=args.seed))
                print(f"{mode} {name} {spec}: {time.perf_counter() - start:.1f} s")
                results.append((spec, result.pixels))
            panels += [(f"{name}: original", patch), ("context", masked(patch, result.known)), *results]
        path = args.out_dir / f"image_{mode}.png"
        path.write_bytes(png_bytes(grid(panels, scale=4, columns=2 + len(models))))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
