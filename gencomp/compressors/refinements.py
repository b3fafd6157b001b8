"""How a code-length predictor refines its codec's lengths: the settings, their units and
ranges (shown by `gencomp models`), and the names earlier versions gave them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from gencomp.errors import SpecError
from gencomp.spec import Added, Alias, Option

OPTIONS = (
    Option("horizon", int, 1, "how far ahead the continuations the context suggests are scored "
           "(1: the next byte only, the paper's one step); past 64 a step costs more than it finds",
           unit="bytes", low=1, high=64),
    Option("continuations", int, 16, "suggested continuations scored per step (from horizon 2)",
           unit="continuations", low=0, high=256),
    Option("views", int, 1, "views of the context, each starting 64 bytes later, whose distributions "
           "are averaged: they move the codec's byte boundaries and block-header noise", unit="views", low=1, high=32),
    Option("exponent", float, 1.0, "power each view's distribution is raised to, then renormalised "
           "(<1 flattens, >1 sharpens); past 4 the likeliest byte takes nearly all", low=0.05, high=4),
    Option("bonus", float, 0.0, "credited to each suggested continuation; at most 32, a byte's "
           "largest cost in the coder", unit="bits", low=0, high=32),
    Option("shuffled_views", int, 0, "views with the context's own bytes, shuffled, in front, so "
           "that the codec codes literals by their frequencies (contexts under 512 bytes)", unit="views", low=0, high=64),
    Option("pool", bool, False, "bytes seen equally often share one length (the mean of a few)"),
    Option("ends", bool, False, "score a continuation's first 2 bytes and whole horizon, not each prefix"),
    Option("adapt", bool, False, "mix 4 exponents with weights learned online from the context "
           "(0.9-1.0x the refined speed, 0.7-0.8x the fast; a prompt's last 64 bytes are walked first)"),
)

# names in specs written by gencomp 0.1.0 (.gcz headers, results files), read as today's
ALIASES = (
    Alias("lookahead", "horizon", lambda steps: max(1, steps)),  # 0 and 1 both meant one step
    Alias("spans", "continuations"),
    Alias("offsets", "views"),
    Alias("sharpness", "exponent"),
    Alias("primes", "shuffled_views"),
)
# options 0.1.0 did not have: its specs (which name every other option) meant them off
ADDED = (Added("adapt", False),)


@dataclass(frozen=True)
class Refinements:
    """The refined method's settings (module :mod:`gencomp.compressors.predictor` says what
    each does); the defaults here are no refinement at all, each codec has its tuned set."""

    horizon: int = 1
    continuations: int = 16
    views: int = 1
    exponent: float = 1.0
    bonus: float = 0.0
    shuffled_views: int = 0
    pool: bool = False
    ends: bool = False
    adapt: bool = False

    def __post_init__(self) -> None:
        for option in OPTIONS:
            option.check(getattr(self, option.name))

    def with_changes(self, changes: dict[str, Any]) -> Refinements:
        """These settings with ``changes``; a name that is not a refinement is refused."""
        known = {field.name for field in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise SpecError(f"no refinement called {', '.join(unknown)} (refinements: {', '.join(sorted(known))})")
        return replace(self, **changes)

    def settings(self) -> dict[str, Any]:
        return asdict(self)


def options(tuned: Refinements) -> tuple[Option, ...]:
    """The refinement options of a family whose defaults are ``tuned``."""
    return tuple(replace(option, default=getattr(tuned, option.name)) for option in OPTIONS)
