"""Mixtures of predictors: one next-byte distribution from several, weighted online.

A spec names the components joined by ``+``; a component with options of its own goes in
parentheses, and the mixture's options follow a comma: ``mix:gzip+llm``,
``mix:(zstd:level=19,horizon=4)+(llm:threads=1),rate=0.01``. Two layers, both learned from
the bytes of the context:

1. **Logistic mixing** (PAQ's mixer): a byte is 8 binary decisions down a tree of 255
   nodes; each component's p(bit) at a node is read off its 256 probabilities, their
   logits added with weights per bit position, and the 8 nodes on a byte's path move their
   weights by online gradient descent on the code length.
2. **A Bayesian mixture** of the components and that mix, with fixed sharing (Herbster &
   Warmuth) so that it can switch: its code length is never more than the best expert's +
   log2(1/prior) + n · log2(1/(1 − share)) bits on any data (the tests check the bound).

Deterministic: element-wise float64 numpy on arrays of fixed shape, in the same order for
the encoder and the decoder. The state follows the coder's and the sampler's walk, which
start from an empty context; a context that does not continue the last one (a prompt) is
walked over its last ``WARMUP`` bytes, so that a long prompt costs a bounded number of
component calls. So a context's distribution depends on the calls that led to it, as the
language model's does: the same calls give the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from gencomp.errors import SpecError
from gencomp.predictor import ALPHABET, Predictor, crop, normalize
from gencomp.spec import load_predictor

METHOD_VERSION = 1  # bump when the same spec would give other numbers
NODES = ALPHABET - 1  # internal nodes of the binary tree over the byte's bits
STRETCH_LIMIT = 30.0  # |logit| cap: keeps a near-certain component from swamping the sum
DEPTH = int(math.log2(ALPHABET))
# The mixer's weight set of each node: one per depth (the bit's position in the byte).
# Measured on tuning chunks (text, image, audio): 0.4-3% fewer bits than a set per node,
# which learns from fewer bytes; learning rate 0.005-0.02 alike, 0.05 worse.
WEIGHT_SET = np.array([int(math.log2(node)) for node in range(1, ALPHABET)])
# Bytes of a fresh context (a prompt) the weights learn from, which bounds what a prompt
# costs: on 1,925 bytes of held-out text, the adaptive gzip's first call took 38.6 s walking
# it all and 1.7 s over its last 64 bytes, whose continuation then cost 3.730 bits/byte
# against 3.702 (whole) and 3.793 without adapt (bench/README.md, "Adaptive defaults").
WARMUP = 64


# ---------------------------------------------------------------------------- grammar


def split_top(text: str, separator: str) -> list[str]:
    """``text`` cut at each ``separator`` outside parentheses; unbalanced ones are an error."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise SpecError(f"unbalanced ')' in {text!r}: wrap each component as (name:options)")
        if char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise SpecError(f"unclosed '(' in {text!r}: wrap each component as (name:options)")
    return parts + [text[start:]]


def split_components(rest: str) -> tuple[str, str]:
    """The text after ``mix:`` -> (the components, the mixture's own ``key=value`` options)."""
    head, *options = split_top(rest, ",")
    return head.strip(), ",".join(options)


def component_specs(text: str) -> list[str]:
    """``a+(b:x=1,y=2)+c`` -> ["a", "b:x=1,y=2", "c"]."""
    if not text:
        raise SpecError("a mixture needs components joined by +, e.g. mix:gzip+ngram:order=2")
    specs = []
    for part in split_top(text, "+"):
        part = part.strip()
        if part.startswith("(") and part.endswith(")"):
            part = part[1:-1].strip()
        if not part:
            raise SpecError(f"empty component in mix:{text}; write components as gzip+llm")
        specs.append(part)
    if len(specs) < 2:
        raise SpecError(f"a mixture needs at least two components, got mix:{text}; e.g. mix:gzip+ngram:order=2")
    return specs


def refuse_repeats(specs: list[str]) -> None:
    """A component given twice would only add weight to one model: say so."""
    repeated = sorted({s for s in specs if specs.count(s) > 1})
    if repeated:
        raise SpecError(f"mixture component {repeated[0]} is given twice; each component once (they would only add weight)")


def parse_weights(text: str, count: int) -> np.ndarray:
    """``3:1`` -> the prior weights of ``count`` components, normalised; empty: equal."""
    if not text:
        return np.full(count, 1.0 / count)
    try:
        weights = np.array([float(part) for part in text.split(":")])
    except ValueError:
        raise SpecError(f"weights={text!r} do not parse: give {count} positive numbers joined by ':', e.g. weights={':'.join(['1'] * count)}") from None
    if len(weights) != count or not np.all(np.isfinite(weights)) or np.any(weights <= 0):
        raise SpecError(f"weights={text!r}: need {count} positive numbers joined by ':', one per component, e.g. weights={':'.join(['1'] * count)}")
    return weights / weights.sum()


# ---------------------------------------------------------------------------- the tree


def node_logits(logprobs: np.ndarray) -> np.ndarray:
    """stretch(p(bit = 1)) at each of the 255 nodes, heap order (node n has children 2n,
    2n + 1; leaves 256..511 are the bytes): ln mass(right) − ln mass(left). Over the last
    axis, so that several distributions go in one call."""
    logprobs = np.asarray(logprobs)
    mass = np.empty(logprobs.shape[:-1] + (2 * ALPHABET,))
    mass[..., ALPHABET:] = logprobs
    for level in range(DEPTH - 1, -1, -1):
        lo, hi = 1 << level, 2 << level
        mass[..., lo:hi] = np.logaddexp(mass[..., 2 * lo : 2 * hi : 2], mass[..., 2 * lo + 1 : 2 * hi : 2])
    return mass[..., 3::2] - mass[..., 2::2]  # node n at index n - 1


def leaf_logprobs(logits: np.ndarray) -> np.ndarray:
    """The byte distribution whose node logits are ``logits`` (inverse of :func:`node_logits`)."""
    zero_bit = -np.logaddexp(0.0, logits)  # ln σ(−z) at every node, in one call
    one_bit = -np.logaddexp(0.0, -logits)  # ln σ(z)
    logp = np.zeros(2 * ALPHABET)
    for level in range(DEPTH):
        lo, hi = 1 << level, 2 << level
        logp[2 * lo : 2 * hi : 2] = logp[lo:hi] + zero_bit[lo - 1 : hi - 1]
        logp[2 * lo + 1 : 2 * hi : 2] = logp[lo:hi] + one_bit[lo - 1 : hi - 1]
    return logp[ALPHABET:]


def _paths() -> tuple[np.ndarray, np.ndarray]:
    """For every byte, the node indices (0-based) it passes and the bit it takes at each."""
    leaves = ALPHABET + np.arange(ALPHABET)[:, None]
    depths = np.arange(DEPTH)[None, :]
    return (leaves >> (DEPTH - depths)) - 1, ((leaves >> (DEPTH - 1 - depths)) & 1).astype(np.float64)


PATH_NODES, PATH_BITS = _paths()  # (256, 8) each


# ---------------------------------------------------------------------------- predictor


class Experts:
    """Variants of one model computed together for a context (a compressor's distribution
    at several exponents from one scoring), offered as components of a :class:`Mixture`:
    each is computed once per context, when the first of them is asked."""

    def __init__(self, compute: Callable[[bytes], list[np.ndarray]], names: list[str], context_window: int) -> None:
        self.compute, self.names, self.context_window = compute, names, context_window
        self._context: bytes | None = None
        self._results: list[np.ndarray] = []

    def of(self, context: bytes, index: int) -> np.ndarray:
        if context != self._context:
            self._results, self._context = self.compute(context), context
        return self._results[index]

    def components(self) -> list[_Expert]:
        return [_Expert(self, i) for i in range(len(self.names))]


class _Expert:
    """One of :class:`Experts`, as a predictor."""

    def __init__(self, experts: Experts, index: int) -> None:
        self.experts, self.index = experts, index
        self.spec, self.context_window, self.fingerprint = experts.names[index], experts.context_window, ""

    def logprobs(self, context: bytes) -> np.ndarray:
        return self.experts.of(context, self.index)


@dataclass
class _State:
    """What the mixture knows after a context: the weights and its experts' predictions."""

    context: bytes
    mixer: np.ndarray  # (8, K) logistic weights, a set per bit position (WEIGHT_SET)
    log_prior: np.ndarray  # (K + 1,) log posterior weights of the components and the mix
    stretched: np.ndarray | None = None  # (K, 255) the components' node logits for context
    experts: np.ndarray | None = None  # (K + 1, 256) log-probabilities for context
    result: np.ndarray | None = None


class Mixture:
    """Components' distributions mixed with weights learned from the context (module doc)."""

    def __init__(self, components: list[Predictor], weights: np.ndarray | None = None, rate: float = 0.01, share: float = 1 / 1024) -> None:
        if len(components) < 2:
            raise SpecError("a mixture needs at least two components, e.g. mix:gzip+ngram:order=2")
        refuse_repeats([c.spec for c in components])
        if not 0 < rate <= 1:
            raise SpecError(f"rate must be in (0, 1], got {rate}")
        if not 0 <= share < 1:
            raise SpecError(f"share must be in [0, 1), got {share}")
        self.components = components
        self.weights = np.full(len(components), 1.0 / len(components)) if weights is None else np.asarray(weights, dtype=np.float64)
        self.rate, self.share = rate, share
        self.context_window = max(c.context_window for c in components)
        self._state = self._fresh()

    @classmethod
    def from_spec(cls, components: str, weights: str = "", rate: float = 0.01, share: float = 1 / 1024) -> Mixture:
        """Build from the spec's parts: each component is loaded (duplicates refused first
        by their text, so that a language model is not loaded twice for nothing)."""
        specs = component_specs(components)
        refuse_repeats(specs)
        prior = parse_weights(weights, len(specs))
        return cls([load_predictor(s) for s in specs], prior, rate, share)

    @property
    def spec(self) -> str:
        parts = "+".join(f"({c.spec})" for c in self.components)
        weights = ":".join(repr(float(w)) for w in self.weights)
        return f"mix:{parts},weights={weights},rate={self.rate!r},share={self.share!r}"

    @property
    def fingerprint(self) -> str:
        inner = "; ".join(c.fingerprint for c in self.components)
        return f"mix {METHOD_VERSION} numpy {np.__version__} [{inner}]"

    def __repr__(self) -> str:
        return f"<Mixture {self.spec}>"

    # ------------------------------------------------------------------ Predictor

    def logprobs(self, context: bytes) -> np.ndarray:
        x = crop(bytes(context), self.context_window)
        state = self._state
        if x == state.context and state.result is not None:
            return state.result
        slid = len(x) == len(state.context) == self.context_window and x[:-1] == state.context[1:]
        if slid:
            self._learn(x[-1])
        else:
            if not (x.startswith(state.context) and state.result is not None):
                state = self._state = self._fresh()
                state.context = x[: max(0, len(x) - WARMUP)]  # learn from the last WARMUP bytes
            for i in range(len(state.context), len(x)):
                if state.result is None:
                    self._predict(x[:i])
                self._learn(x[i])
                state.result = None
        state.context = x
        return self._predict(x)

    def _fresh(self) -> _State:
        k = len(self.components)
        log_prior = np.log(np.append(self.weights * k / (k + 1), 1 / (k + 1)))
        return _State(b"", np.full((WEIGHT_SET.max() + 1, k), 1.0 / k), log_prior)

    def _predict(self, context: bytes) -> np.ndarray:
        """The experts' distributions for ``context`` and their Bayesian mixture."""
        state = self._state
        parts = np.stack([c.logprobs(context) for c in self.components])
        state.stretched = np.clip(node_logits(parts), -STRETCH_LIMIT, STRETCH_LIMIT)
        mixed = np.einsum("nk,kn->n", state.mixer[WEIGHT_SET], state.stretched)
        state.experts = np.vstack([parts, normalize(leaf_logprobs(mixed))[None, :]])
        state.result = normalize(np.logaddexp.reduce(state.experts + state.log_prior[:, None], axis=0))
        return state.result

    def _learn(self, byte: int) -> None:
        """Move both layers' weights by how well each predicted ``byte``."""
        state = self._state
        assert state.experts is not None and state.stretched is not None, "learn needs a prediction"
        nodes, bits = PATH_NODES[byte], PATH_BITS[byte]
        inputs = state.stretched[:, nodes].T  # (8, K)
        rows = WEIGHT_SET[nodes]
        z = np.einsum("dk,dk->d", state.mixer[rows], inputs)
        error = bits - 1.0 / (1.0 + np.exp(-z))
        np.add.at(state.mixer, rows, self.rate * error[:, None] * inputs)
        posterior = state.log_prior + state.experts[:, byte]
        posterior -= np.logaddexp.reduce(posterior)
        if self.share:
            spread = math.log(self.share / len(posterior))
            posterior = np.logaddexp(posterior + math.log1p(-self.share), spread)
        state.log_prior = posterior
