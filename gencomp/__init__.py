"""gencomp: prediction is compression.

One :class:`Predictor` gives next-byte distributions, from a classical compressor or a
language model; :func:`sample` draws continuations from it and the coder compresses with it.
"""

from gencomp.predictor import (
    GencompError,
    Predictor,
    SpecError,
    check_logprobs,
    families,
    load_predictor,
)
from gencomp.sampling import sample

__all__ = [
    "GencompError",
    "Predictor", "SpecError", "check_logprobs", "families", "load_predictor", "sample"]
__version__ = "0.1.0"
