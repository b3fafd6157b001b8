"""PPMd as a predictor: 7-Zip's and RAR's context-modelling compressor, through pyppmd.

PPM predicts each byte from the preceding ``level`` bytes (the model order), falling back
to shorter contexts for bytes never seen after a longer one; it models text far better
than LZ77's copies and byte frequencies. pyppmd has no encoder state to copy, so each
candidate is compressed whole (:class:`~gencomp.compressors.predictor.CompressorPredictor`'s
default path), and its range coder ends on a whole byte: one-step lengths are coarse
(2-3 tie sets on 2 KB of text). The compressor predictors' refinements make them finer:
the mixed context offsets move the byte boundaries (the dithering that gzip's block
header noise needed), and the bytes the context has not held are scored by a few stand-ins.
"""

from __future__ import annotations

import pyppmd

from gencomp.compressors.predictor import CompressorPredictor
from gencomp.compressors.refinements import Refinements

MEMORY = 1 << 20  # bytes of model memory: a 2 KB context's order-6 model takes far less
VARIANT = "I"  # PPMd var. I (RAR's, pyppmd's default); "H" is 7-Zip's


class PpmdPredictor(CompressorPredictor):
    """PPMd var. I of order ``level`` (pyppmd); lengths in whole bytes of its output."""

    name = "ppmd"
    levels, default_level = range(2, 65), 6  # the model order (pyppmd: 2..64)
    threaded = False  # pyppmd holds the GIL while it compresses
    # lengths are whole bytes and each costs a whole compression: 2 views to dither the
    # byte boundaries, a short look-ahead of 4 continuations' two ends, pooled literals
    # (bench/codec_predictors.py on held-out text: 1.20x pyppmd's own rate; one view 1.31x,
    # 4 views without look-ahead 1.26x at 0.6x the speed, the paper's method 1.65x)
    TUNED = Refinements(horizon=8, continuations=4, views=2, bonus=4.0, shuffled_views=4, pool=True, ends=True)

    def compress(self, data: bytes) -> bytes:
        return pyppmd.compress(data, max_order=self.level, mem_size=MEMORY, variant=VARIANT)

    @staticmethod
    def library_version() -> str:
        return f"pyppmd {pyppmd.__version__} var. {VARIANT}"


COMPRESSOR_PREDICTORS = {PpmdPredictor.name: PpmdPredictor}
