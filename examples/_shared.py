"""What the three example scripts share: their arguments and loading the models."""

from __future__ import annotations

import argparse
from pathlib import Path

from gencomp import GencompError, Predictor, load_predictor
from gencomp.spec import split_specs

DEFAULT_MODELS = "gzip,zstd,llm"  # the paper's pair (a compressor, a language model) and one more


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("out_dir", nargs="?", type=Path, default=Path("out"), help="folder for the results (default: out/)")
    parser.add_argument("--models", default=DEFAULT_MODELS, help=f"comma-separated predictor specs (default: {DEFAULT_MODELS})")
    parser.add_argument("--seed", type=int, default=0, help="random seed, the same for every model (default: 0)")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    return args


def load_models(specs: str) -> dict[str, Predictor]:
    """The predictors that load; a language model that is not installed is skipped, with
    the reason, so that the compressors' half of a figure can always be made."""
    models = {}
    for spec in split_specs(specs):
        try:
            models[spec] = load_predictor(spec)
        except (GencompError, ImportError) as error:
            if not spec.startswith("llm"):
                raise
            print(f"skipping {spec}: the LLM predictor is not available ({error})")
    return models
