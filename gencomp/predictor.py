"""The one interface everything else is built on: a next-byte distribution.

A predictor maps a byte context to 256 natural-log probabilities. The sampler draws from
them, the arithmetic coder codes with them. Predictors are created from spec strings
such as ``gzip``, ``zstd:level=19`` or ``llm:HuggingFaceTB/SmolLM2-360M,device=cuda``
through :func:`load_predictor`; ``families()`` lists what is known.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, runtime_checkable

import numpy as np

ALPHABET = 256
DEFAULT_CONTEXT_WINDOW = 2048  # bytes: the paper's chunk size


@runtime_checkable
class Predictor(Protocol):
    """Next-byte model.

    Contract: ``logprobs(context)`` returns a float64 array of shape (256,), natural log,
    normalised (logsumexp == 0), every entry finite. The result depends only on the last
    ``context_window`` bytes of ``context`` and the configuration; the same sequence of
    calls gives bit-identical arrays (the arithmetic coder relies on it). Implementations
    may cache so that growing the context by one byte per call is cheap.

    ``spec`` rebuilds an equal predictor through :func:`load_predictor`; ``fingerprint``
    names everything else the numbers depend on (codec library version, hash of model
    weights), so that a decoder can refuse a predictor that would decode differently.

    Optional: ``sample_next(context, rng) -> int`` draws the next byte from the same
    distribution (temperature 1, no truncation) more cheaply than ``logprobs`` would;
    :func:`gencomp.sample` uses it when present.
    """

    spec: str
    context_window: int
    fingerprint: str

    def logprobs(self, context: bytes) -> np.ndarray: ...


def normalize(logits: np.ndarray) -> np.ndarray:
    """Shift natural-log scores so that they sum to one in probability (float64)."""
    logits = np.asarray(logits, dtype=np.float64)
    top = logits.max()
    return logits - (top + math.log(np.exp(logits - top).sum()))


def from_code_lengths(bits: np.ndarray) -> np.ndarray:
    """The paper's compressor distribution: p(b) ∝ 2^-ℓ(b), ℓ in bits."""
    bits = np.asarray(bits, dtype=np.float64)
    return normalize(-(bits - bits.min()) * math.log(2.0))


def check_logprobs(logprobs: np.ndarray, atol: float = 1e-9) -> None:
    """Raise ValueError if ``logprobs`` breaks the Predictor contract."""
    if logprobs.shape != (ALPHABET,) or logprobs.dtype != np.float64:
        raise ValueError(f"expected float64[256], got {logprobs.dtype}{list(logprobs.shape)}")
    if not np.all(np.isfinite(logprobs)):
        raise ValueError("every byte must have a finite log-probability")
    total = np.logaddexp.reduce(logprobs)
    if abs(total) > atol:
        raise ValueError(f"log-probabilities are not normalised (logsumexp = {total:.3g})")


def crop(context: bytes, window: int) -> bytes:
    """The part of ``context`` a predictor with this window sees (the last bytes)."""
    return bytes(context[-window:]) if window and len(context) > window else bytes(context)


# --------------------------------------------------------------------------- registry


class GencompError(Exception):
    """A problem the user can fix; the message is one line that says how. The CLI shows
    it without a traceback, so raise it (or a subclass) for anything caused by input."""


class SpecError(GencompError, ValueError):
    """A predictor spec that cannot be resolved; the message says what would work."""


@dataclass(frozen=True)
class Option:
    """One ``key=value`` of a spec: its type converts the text, ``help`` is shown by
    `gencomp models`."""

    name: str
    type: type
    default: Any
    help: str


@dataclass(frozen=True)
class Family:
    """A kind of predictor: a spec name, its options and how to build one."""

    name: str
    help: str
    build: Callable[..., Predictor]
    options: tuple[Option, ...] = ()
    positional: str | None = None  # the option a bare value fills, as in ``llm:NAME``
    flags: tuple[str, ...] = field(default=())  # bare words that set a bool option True
    # reads the positional value off the front of the text after ``name:`` when it may hold
    # commas of its own (a mixture's components): text -> (positional value, the options)
    split: Callable[[str], tuple[str, str]] | None = None

    def option(self, name: str) -> Option:
        for option in self.options:
            if option.name == name:
                return option
        known = ", ".join(o.name for o in self.options) or "none"
        raise SpecError(f"{self.name} has no option {name!r} (options: {known})")


_FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    """Make ``family`` resolvable by its name in spec strings."""
    _FAMILIES[family.name] = family
    return family


def families() -> list[Family]:
    """Every known predictor family, in registration order."""
    return list(_FAMILIES.values())


def _convert(option: Option, text: str) -> Any:
    try:
        if option.type is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        return option.type(text)
    except ValueError:
        raise SpecError(
            f"option {option.name}={text!r} is not a valid {option.type.__name__}"
        ) from None


def parse_spec(spec: str) -> tuple[Family, dict[str, Any]]:
    """``name[:value|key=value,...]`` -> (family, keyword options). Raises SpecError."""
    name, _, rest = spec.strip().partition(":")
    family = _FAMILIES.get(name.lower())
    if family is None:
        known = ", ".join(_FAMILIES)
        raise SpecError(f"unknown model {spec!r}; known models: {known} (see `gencomp models`)")
    options: dict[str, Any] = {}
    if family.split is not None and family.positional:
        options[family.positional], rest = family.split(rest)
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = item.partition("=")
        if eq:
            option = family.option(key.strip())
            if option.name in options:
                raise SpecError(f"option {option.name} is given twice in {spec!r}")
            options[option.name] = _convert(option, value.strip())
        elif item in family.flags:
            options[item] = True
        elif family.positional and family.positional not in options:
            options[family.positional] = item
        else:
            raise SpecError(f"cannot read {item!r} in {spec!r}: write options as key=value")
    return family, options


def load_predictor(spec: str) -> Predictor:
    """Build the predictor a spec string names, e.g. ``gzip:level=6,context_window=4096``."""
    family, options = parse_spec(spec)
    return family.build(**options)


# ------------------------------------------------------------------ built-in families
# Builders import their module on use, so that `import gencomp` stays light (no torch).


_REFINEMENTS = ("lookahead", "spans", "offsets", "sharpness", "bonus", "primes", "pool", "ends", "adapt")


def _compressor(name: str, module: str = "gencomp.compressors") -> Callable[..., Predictor]:
    """The builder of a compressor family whose class ``module``'s COMPRESSOR_PREDICTORS holds."""

    def build(**options: Any) -> Predictor:
        family = _FAMILIES[name]
        if options.pop("fast", False):
            if options.get("paper"):
                raise SpecError(f"{name}:fast and {name}:paper are two different methods; choose one")
            options = _FAST[name][0] | options  # settings the spec names win over the preset's
        if options.get("paper"):
            clash = [key for key in _REFINEMENTS if key in options]
            if clash:
                raise SpecError(f"{name}:paper is the one-step paper method; drop {', '.join(clash)}")
        settings = {option.name: option.default for option in family.options if option.name != "fast"} | options
        return importlib.import_module(module).COMPRESSOR_PREDICTORS[name](**settings)

    return build


def _llm(**options: Any) -> Predictor:
    from gencomp.llm import LLMPredictor

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
    ("gzip", 9, "DEFLATE via zlib (gzip's codec), level 0-9; exact bit lengths", (8, 12, 0.9, 0.0), "compressors"),
    ("zstd", 3, "Zstandard via the zstandard package, level -7..22; bit lengths", (8, 8, 0.7, 4.0), "compressors"),
    ("lzma", 6, "LZMA (paper: LZMA2 in .xz; refined: raw LZMA1), preset 0-9", (8, 2, 0.8, 0.0), "compressors"),
    ("bz2", 9, "bzip2 (Python's bz2), block size level 1-9", (8, 4, 0.2, 0.0), "compressors"),
    ("ppmd", 6, "PPMd var. I via pyppmd (context modelling), level = model order 2-64; "
     "whole-byte lengths; slow: about 15-20 B/s (each candidate is compressed whole)", PPMD_DEFAULTS, "ppmd_predictor"),
):
    register(
        Family(
            _name,
            f"{_help}; p(b|x) from code lengths ℓ(x·u), refined beyond the paper's one step",
            _compressor(_name, f"gencomp.{_module}"),
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
        defaults = {option.name: option.default for option in _FAMILIES[name].options}
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
        _imported("png", "gencomp.png_predictor", "PngPredictor"),
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
        _imported("flac", "gencomp.flac_predictor", "FlacPredictor"),
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
