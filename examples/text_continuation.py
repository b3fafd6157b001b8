"""The paper's text samples with any predictors: continue three Wikipedia lead sections.

    python examples/text_continuation.py [OUT_DIR] [--models gzip,zstd,llm] [--seed 0]

Prints each continuation and writes them all to OUT_DIR/text_continuation.md.
"""

from __future__ import annotations

import time

from _shared import arguments, load_models

from gencomp import sample
from gencomp.continuation import Sampling
from gencomp.datasets import default_prompt
from gencomp.render import markdown_comparison, printable

LENGTH = 300  # bytes per model


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    models = load_models(args.models)
    prompt = default_prompt()
    print(f"prompt: {prompt.source}")
    results = []
    for spec, predictor in models.items():
        start = time.perf_counter()
        text = bytes(sample(predictor, prompt.data, LENGTH, seed=args.seed))
        print(f"\n--- {spec} ({time.perf_counter() - start:.1f} s)\n{printable(text)}")
        results.append((spec, text))
    path = args.out_dir / "text_continuation.md"
    path.write_text(markdown_comparison(prompt.data, results, Sampling(seed=args.seed)))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
