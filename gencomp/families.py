"""The built-in predictor families: their spec options, defaults and builders.

Builders import their module on use, so that `import gencomp` stays light (no torch).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from gencomp.errors import SpecError
from gencomp.predictor import DEFAULT_CONTEXT_WINDOW, Predictor
from gencomp.spec import Family, Option, family, register



_REFINEMENTS = ("lookahead", "spans", "offsets", "sharpness", "bonus", "primes", "pool", "ends", "adapt")


def _compressor(name: str, module: str) -> Callable[..., Predictor]:
    """The builder of a compressor family whose class ``module``'s COMPRESSOR_PREDICTORS holds."""

    def build(**options: Any) -> Predictor:
        known = family(name)
        if options.pop("fast", False):
            if options.get("paper"):
                raise SpecError(f"{name}:fast and {name}:paper are two different methods; choose one")
            options = _FAST[name][0] | options  # settings the spec names win over the preset's
        if options.get("paper"):
            clash = [key for key in _REFINEMENTS if key in options]
            if clash:
                raise SpecError(f"{name}:paper is the one-step paper method; drop {', '.join(clash)}")
        settings = {option.name: option.default for option in known.options if option.name != "fast"} | options
        return importlib.import_module(module).COMPRESSOR_PREDICTORS[name](**settings)

    return build


def _llm(**options: Any) -> Predictor:
    from gencomp.llm.predictor import LLMPredictor

    return LLMPredictor(**options)


def _ngram(**options: Any) -> Predictor:
    from gencomp.ngram import NgramPredictor

    return NgramPredictor(**options)


def _mix(**options: Any) -> Predictor:
    from gencomp.mixture import Mixture

    return Mixture.from_spec(**options)


def _mix_split(rest: str) -> tuple[str, str]:
    from gencomp.mixture import split_components

    return split_components(rest)


_WINDOW = Option("context_window", int, DEFAULT_CONTEXT_WINDOW, "bytes of context seen")
# `NAME:fast`, for where speed matters more than the last bits (long files, sampling, rate
# tables over many chunks): one view instead of 8-12, and of each suggested continuation
# its first 2 bytes and its whole 8 only, with pooled literal lengths; flatter, and with
# more credit for the continuations, to make up for the views. Chosen by
# bench/compressor_xent.py on held-out text, image and audio, side by side with the
# default: (settings, what the measurement found).
_FAST: dict[str, tuple[dict[str, Any], str]] = {
    "gzip": (
        {"offsets": 1, "spans": 8, "ends": True, "pool": True, "primes": 1, "sharpness": 0.55, "bonus": 6.0},
        "15-19x the default's bytes/s for 4-7% more bits",
    ),
    "zstd": (
        {"offsets": 1, "spans": 16, "ends": True, "pool": True, "primes": 1, "sharpness": 0.6, "bonus": 8.0},
        "9-11x the default's bytes/s for 1-8% more bits",
    ),
}


def _fast_option(name: str) -> tuple[Option, ...]:
    """The `fast` flag, for the families that have the preset; its help names the settings."""
    if name not in _FAST:
        return ()
    settings, found = _FAST[name]
    named = ", ".join(f"{key}={value}" for key, value in settings.items())
    return (Option("fast", bool, False, f"`{name}:fast`, for speed: {named} ({found}); its spec names these"),)


_ADAPT = Option(
    "adapt", bool, False, "mix 4 sharpnesses with weights learned online from the context (0.7-0.8x the speed; a fresh context is walked from its start)"
)


def _refinements(
    level: int, lookahead: int, offsets: int, sharpness: float, bonus: float, adapt: bool = False, **others: Any
) -> tuple[Option, ...]:
    """The options of a code-length predictor: its codec's level and the refinements, with
    the defaults given here (``others``: spans, primes, pool, ends); ``adapt`` where the
    predictor can learn its sharpness online (the compressor families)."""
    others = {"spans": 16, "primes": 4, "pool": False, "ends": False} | others
    return (
        Option("level", int, level, "compression level"),
        _WINDOW,
        Option("lookahead", int, lookahead, "horizon in bytes of suggested continuations (0, 1: one step)"),
        Option("spans", int, others["spans"], "suggested continuations scored per step (with lookahead)"),
        Option("offsets", int, offsets, "context start offsets (64 bytes apart) whose distributions are mixed"),
        Option("sharpness", float, sharpness, "exponent on the summed weights (<1 flattens)"),
        Option("bonus", float, bonus, "bits credited to each suggested continuation"),
        Option("primes", int, others["primes"], "views with the context's bytes shuffled in front (short contexts)"),
        Option("pool", bool, others["pool"], "bytes seen equally often share one length (the mean of a few)"),
        Option("ends", bool, others["ends"], "score a continuation's first 2 bytes and whole horizon, not each prefix"),
        *((_ADAPT,) if adapt else ()),
        Option("paper", bool, False, "the paper's method: one step, whole-byte lengths"),
    )


# ppmd's lengths are whole bytes and each costs a whole compression (pyppmd has no state to
# copy): 2 offsets to dither the byte boundaries, a short look-ahead of 4 spans' two ends,
# pooled literals; measured by bench/codec_predictors.py on held-out text: 1.20x pyppmd's
# own rate, where one offset gave 1.31x, 4 offsets without look-ahead 1.26x at 0.6x the
# speed, and the paper's method 1.65x.
PPMD_DEFAULTS = (8, 2, 1.0, 4.0)
PPMD_OTHERS = {"spans": 4, "ends": True, "pool": True}

# Defaults (lookahead, offsets, sharpness, bonus): the best cross-entropy for the time,
# measured by bench/compressor_xent.py on Wikipedia text (ppmd: bench/codec_predictors.py);
# `NAME:paper` is the paper's one-step method.
for _name, _level, _help, _defaults, _module in (
    ("gzip", 9, "DEFLATE via zlib (gzip's codec), level 0-9; exact bit lengths", (8, 12, 0.9, 0.0), "codecs"),
    ("zstd", 3, "Zstandard via the zstandard package, level -7..22; bit lengths", (8, 8, 0.7, 4.0), "codecs"),
    ("lzma", 6, "LZMA (paper: LZMA2 in .xz; refined: raw LZMA1), preset 0-9", (8, 2, 0.8, 0.0), "codecs"),
    ("bz2", 9, "bzip2 (Python's bz2), block size level 1-9", (8, 4, 0.2, 0.0), "codecs"),
    ("ppmd", 6, "PPMd var. I via pyppmd (context modelling), level = model order 2-64; "
     "whole-byte lengths; slow: about 15-20 B/s (each candidate is compressed whole)", PPMD_DEFAULTS, "ppmd"),
):
    register(
        Family(
            _name,
            f"{_help}; p(b|x) from code lengths ℓ(x·u), refined beyond the paper's one step",
            _compressor(_name, f"gencomp.compressors.{_module}"),
            (*_refinements(_level, *_defaults, adapt=True, **(PPMD_OTHERS if _name == "ppmd" else {})), *_fast_option(_name)),
            flags=("paper", "fast", "adapt") if _name in _FAST else ("paper", "adapt"),
        )
    )

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


def _imported(name: str, module: str, cls: str) -> Callable[..., Predictor]:
    """The builder of family ``name``: imports ``module`` on use and fills the options a
    spec leaves out with the family's defaults."""

    def build(**options: Any) -> Predictor:
        defaults = {option.name: option.default for option in family(name).options}
        return getattr(importlib.import_module(module), cls)(**(defaults | options))

    return build


# png: DEFLATE's refinements for filtered pixels, measured against Pillow's PNG on held-out
# image patches by bench/codec_predictors.py: one step, one view, pooled literals (2.8x the
# bytes/s of 4 views), and 0.9 of a geometric over the residual's size, which gave 0.967x
# PNG's rate where DEFLATE's lengths alone gave 1.04-1.14x (unseen small residuals).
register(
    Family(
        "png",
        "PNG: pixels in rows of `width`, PNG's row filters, then DEFLATE's exact bit lengths "
        "(gzip's refinements) mixed with a geometric over the residual; for grayscale image "
        "bytes; about 150-250 B/s",
        _imported("png", "gencomp.compressors.png", "PngPredictor"),
        (
            Option("width", int, 64, "pixels a row (the paper's patches: 64); at most context_window"),
            Option("filter", str, "adaptive", "adaptive (each row: the filter best on the row above), none, sub, up, average or paeth"),
            Option("smooth", float, 0.9, "share of a geometric distribution over the filtered byte's size (0: DEFLATE's lengths only)"),
            *_refinements(9, 0, 1, 0.9, 0.0, pool=True, primes=1),
        ),
        flags=("paper",),
    )
)
register(
    Family(
        "flac",
        "FLAC: fixed and LPC sample predictors and the Rice code of the residual; for audio bytes "
        "(8-bit: the paper's mapping, 16-bit little-endian); about 500-800 B/s at 8 bits "
        "(`flac:order=0`, fixed predictors only: 2.3x that), 300 at 16",
        _imported("flac", "gencomp.compressors.flac", "FlacPredictor"),
        (
            Option("bits", int, 8, "bits a sample: 8 (byte = high byte + 128) or 16 (little-endian)"),
            Option("order", int, 8, "largest LPC order (0: FLAC's fixed predictors only)"),
            Option("partition", int, 128, "samples whose residual chooses the predictor and Rice parameter"),
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
        _imported("ppm", "gencomp.ppm", "PpmPredictor"),
        (
            Option("order", int, 5, "bytes of context of the longest order (0..16)"),
            Option("discount", float, 0.8, "subtracted from each count and given to shorter contexts (0..1)"),
            Option("strength", float, 0.1, "pseudo-count of shorter contexts in each order (>= 0)"),
            _WINDOW,
        ),
    )
)

register(
    Family(
        "ngram",
        "an adaptive context model: counts of the bytes that followed the context's last "
        "`order` bytes in the context, blended down to order 0 (Witten-Bell); for mixtures",
        _ngram,
        (Option("order", int, 2, "bytes of context the counts are kept by (0-8)"), _WINDOW),
    )
)

register(
    Family(
        "mix",
        "a mixture of predictors, weighted online from the bytes seen so far (PAQ-style "
        "logistic mixing, then a Bayesian mixture with switching): `mix:gzip+llm`, a "
        "component with options in parentheses, `mix:(gzip:level=6,lookahead=4)+ngram`; "
        "costs the sum of its components, and a prompt is scored from its start to learn the weights",
        _mix,
        (
            Option("components", str, "", "predictor specs joined by +, each in (...) if it has commas"),
            Option("weights", str, "", "prior weights of the components joined by ':', e.g. 1:2 (default: equal)"),
            Option("rate", float, 0.01, "learning rate of the logistic mixer's weights"),
            Option("share", float, 1 / 1024, "posterior mass spread evenly after each byte, so it can switch"),
        ),
        positional="components",
        split=_mix_split,
    )
)
