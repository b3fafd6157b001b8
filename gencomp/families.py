"""The built-in predictor families: their spec options and builders, registered on import.

Each family's defaults are its class's (the constructor's defaults, a codec's ``TUNED``
refinements), so that a class built with no arguments is the bare spec's predictor. The
language model is imported on use, so that `import gencomp` stays light (no torch).
"""

from __future__ import annotations

import inspect
from dataclasses import replace
from typing import Any

from gencomp.compressors import refinements
from gencomp.compressors.codecs import Bz2Predictor, GzipPredictor, LzmaPredictor, ZstdPredictor
from gencomp.compressors.flac import FlacPredictor
from gencomp.compressors.png import PngPredictor
from gencomp.compressors.ppmd import PpmdPredictor
from gencomp.compressors.predictor import CompressorPredictor
from gencomp.mixture import Mixture, split_components
from gencomp.ngram import NgramPredictor
from gencomp.ppm import PpmPredictor
from gencomp.predictor import DEFAULT_CONTEXT_WINDOW, Predictor
from gencomp.spec import Family, Option, register

_WINDOW = Option("context_window", int, DEFAULT_CONTEXT_WINDOW, "of context seen", unit="bytes", low=1)
_PAPER = Option("paper", bool, False, "the paper's method: one step, whole-byte lengths, no refinement")


def _class_defaults(cls: type, *options: Option) -> tuple[Option, ...]:
    """``options`` with the defaults of ``cls``'s constructor, so that the two cannot differ."""
    parameters = inspect.signature(cls).parameters
    return tuple(
        replace(o, default=parameters[o.name].default) if o.name in parameters and parameters[o.name].default is not None else o
        for o in options
    )


def _level(cls: type[CompressorPredictor]) -> Option:
    return Option("level", int, cls.default_level, "the codec's compression level", low=cls.levels[0], high=cls.levels[-1])


def _fast(cls: type[CompressorPredictor]) -> tuple[Option, ...]:
    """The ``fast`` flag of a codec with a preset for speed; its help names the settings."""
    if cls.FAST is None:
        return ()
    changed = {k: v for k, v in cls.FAST.settings().items() if v != cls.TUNED.settings()[k]}
    named = ", ".join(f"{key}={value}" for key, value in changed.items())
    return (Option("fast", bool, False, f"the preset for speed (long files, sampling; about 3x the default's bytes/s for 5-30% more bits): {named}"),)


def _codec(cls: type[CompressorPredictor], help: str) -> Family:
    return Family(
        cls.name,
        f"{help}; p(b|x) from code lengths ℓ(x·u), refined beyond the paper's one step",
        cls,
        (_level(cls), _WINDOW, *refinements.options(cls.TUNED), _PAPER, *_fast(cls)),
        flags=("paper", "adapt", "fast"),  # a codec without the preset says so itself
        aliases=refinements.ALIASES,
        added=refinements.ADDED,
    )


for _cls, _help in (
    (GzipPredictor, "DEFLATE via zlib (gzip's codec); exact bit lengths"),
    (ZstdPredictor, "Zstandard via the zstandard package; bit lengths"),
    (LzmaPredictor, "LZMA (paper: LZMA2 in .xz; refined: raw LZMA1), the preset as level"),
    (Bz2Predictor, "bzip2 (Python's bz2), block size as level"),
    (PpmdPredictor, "PPMd var. I via pyppmd (context modelling), level = model order; whole-byte "
     "lengths; slow: about 15-20 B/s (each candidate is compressed whole)"),
):
    register(_codec(_cls, _help))


def _llm(**options: Any) -> Predictor:
    from gencomp.llm.predictor import LLMPredictor

    return LLMPredictor(**options)


register(
    Family(
        "llm",
        "a causal language model through transformers; bare `llm` is the bundled "
        "SmolLM2-135M-Instruct (offline), `llm:NAME` any hub id or local folder",
        _llm,
        (
            Option("model", str, "", "hub id or local folder; empty: the bundled SmolLM2"),
            Option("device", str, "auto", "auto, cpu, cuda or mps"),
            Option("dtype", str, "auto", "auto, float32, bfloat16 or float16"),
            _WINDOW,
            Option("threads", int, 1, "torch threads per model step, fixed so that a file decodes "
                   "the same on any machine (0: torch's default, which depends on the machine)"),
        ),
        positional="model",
    )
)


register(
    Family(
        "png",
        "PNG: pixels in rows of `width`, PNG's row filters, then DEFLATE's exact bit lengths "
        "(gzip's refinements) mixed with a geometric over the residual; for grayscale image "
        "bytes; about 150-250 B/s",
        PngPredictor,
        (
            *_class_defaults(
                PngPredictor,
                Option("width", int, 64, "a row (the paper's patches: 64); at most context_window", unit="pixels", low=1),
                Option("filter", str, "adaptive", "adaptive (each row: the filter best on the row above), none, sub, up, average or paeth"),
                Option("smooth", float, 0.9, "share of a geometric distribution over the filtered byte's size (0: DEFLATE's lengths only)", low=0, high=0.99),
                Option("level", int, 9, "DEFLATE's compression level", low=0, high=9),
            ),
            _WINDOW,
            *refinements.options(PngPredictor.TUNED),
            _PAPER,
        ),
        flags=("paper", "adapt"),
        aliases=refinements.ALIASES,
        added=refinements.ADDED,
    )
)
register(
    Family(
        "flac",
        "FLAC: fixed and LPC sample predictors and the Rice code of the residual; for audio bytes "
        "(8-bit: the paper's mapping, 16-bit little-endian); about 500-800 B/s at 8 bits "
        "(`flac:order=0`, fixed predictors only: 2.3x that), 300 at 16",
        FlacPredictor,
        _class_defaults(
            FlacPredictor,
            Option("bits", int, 8, "a sample: 8 (byte = high byte + 128) or 16 (little-endian)", unit="bits"),
            Option("order", int, 8, "largest LPC order (0: FLAC's fixed predictors only)", low=0, high=32),
            Option("partition", int, 128, "whose residual chooses the predictor and Rice parameter", unit="samples", low=1),
            _WINDOW,
        ),
    )
)
# ppm: chosen by cross-entropy on two tuning chunks of Wikipedia text (gencomp/ppm.py):
# orders 4-7 and discounts 0.7-0.8 lie within 0.02 bits/byte of each other; strength 0.1
# codes as well as 0.5 (3.516 against 3.519) and its samples read better
# (bench/sample_quality.py --prompts 6: judged 4.29 against 4.76).
register(
    Family(
        "ppm",
        "PPM: gencomp's own context model of bytes, orders 0..`order` of the window's counts "
        "blended as interpolated Kneser-Ney; all 256 bytes in one call, 2,000-15,000 B/s measured",
        PpmPredictor,
        _class_defaults(
            PpmPredictor,
            Option("order", int, 5, "of context of the longest order", unit="bytes", low=0, high=16),
            Option("discount", float, 0.8, "subtracted from each count and given to shorter contexts", low=0, high=1),
            Option("strength", float, 0.1, "pseudo-count of shorter contexts in each order", low=0),
            _WINDOW,
        ),
    )
)

register(
    Family(
        "ngram",
        "an adaptive context model: counts of the bytes that followed the context's last "
        "`order` bytes in the context, blended down to order 0 (Witten-Bell); for mixtures",
        NgramPredictor,
        _class_defaults(NgramPredictor, Option("order", int, 2, "of context the counts are kept by", unit="bytes", low=0, high=8), _WINDOW),
    )
)

register(
    Family(
        "mix",
        "a mixture of predictors, weighted online from the bytes seen so far (PAQ-style "
        "logistic mixing, then a Bayesian mixture with switching): `mix:gzip+llm`, a "
        "component with options in parentheses, `mix:(gzip:level=6,horizon=4)+ngram`; "
        "costs the sum of its components, and a prompt's last 64 bytes are scored to learn the weights",
        Mixture.from_spec,
        (
            Option("components", str, "", "predictor specs joined by +, each in (...) if it has commas"),
            Option("weights", str, "", "prior weights of the components joined by ':', e.g. 1:2 (default: equal)"),
            Option("rate", float, 0.01, "learning rate of the logistic mixer's weights"),
            Option("share", float, 1 / 1024, "posterior mass spread evenly after each byte, so it can switch"),
        ),
        positional="components",
        split=split_components,
    )
)
