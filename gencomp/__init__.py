"""gencomp: prediction is compression.

One :class:`Predictor` gives next-byte distributions, from a classical compressor or a
language model; :func:`sample` draws continuations from it and the coder compresses with it.
"""

from gencomp import families as _builtin_families  # noqa: F401  (registers them; nothing else imports it)
from gencomp.errors import GencompError, SpecError
from gencomp.predictor import Predictor, check_logprobs
from gencomp.sampling import sample
from gencomp.spec import families, load_predictor

__all__ = ["GencompError", "Predictor", "SpecError", "check_logprobs", "families", "load_predictor", "sample"]
__version__ = "0.8.0"
