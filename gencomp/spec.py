"""Spec strings and the registry of predictor families.

A spec is ``name[:value|key=value,...]`` (``gzip``, ``zstd:level=19``, ``llm:NAME,device=cuda``):
:func:`parse_spec` reads it against the registered :class:`Family`, :func:`load_predictor`
builds the predictor. The families register themselves from above (:mod:`gencomp.families`,
imported by the package), so this module knows none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from gencomp.errors import SpecError, UnknownModelError
from gencomp.predictor import Predictor


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


def family(name: str) -> Family:
    """The registered family called ``name`` (KeyError if none is)."""
    return _FAMILIES[name]


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
        raise UnknownModelError(f"unknown model {spec!r}; known models: {known}")
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
