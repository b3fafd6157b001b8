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
    unit: str = ""  # what the number counts (bytes, bits, views), shown by `gencomp models`
    low: float | None = None  # the least value that works
    high: float | None = None  # the largest value that works (the help says why it is the limit)

    def check(self, value: Any) -> None:
        """Raise SpecError if ``value`` is out of this option's range."""
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise SpecError(f"{self.name} must be in {self.range()}, got {value!r}")

    def range(self) -> str:
        """The values that work, as text: ``1..64``, ``>= 0``, ``(0, 4]``."""
        low, high = (None if v is None else self.type(v) for v in (self.low, self.high))
        if low is not None and high is not None:
            return f"{low}..{high}"
        return f">= {low}" if low is not None else (f"<= {high}" if high is not None else "")


@dataclass(frozen=True)
class Alias:
    """An option's name in specs written by earlier versions (``.gcz`` headers, results
    files): read as ``new``, its value passed through ``convert``."""

    old: str
    new: str
    convert: Callable[[Any], Any] = lambda value: value


@dataclass(frozen=True)
class Added:
    """An option added after specs were first stored (``.gcz`` headers name every option of
    their time): a stored spec that does not name it predates it, and meant ``before``."""

    name: str
    before: Any


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
    aliases: tuple[Alias, ...] = ()
    added: tuple[Added, ...] = ()

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
    aliases = {alias.old: alias for alias in family.aliases}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = item.partition("=")
        if eq:
            alias = aliases.get(key.strip())
            option = family.option(alias.new if alias else key.strip())
            if option.name in options:
                raise SpecError(f"option {option.name} is given twice in {spec!r}")
            converted = _convert(option, value.strip())
            options[option.name] = alias.convert(converted) if alias else converted
        elif item in family.flags:
            options[item] = True
        elif family.positional and family.positional not in options:
            options[family.positional] = item
        else:
            raise SpecError(f"cannot read {item!r} in {spec!r}: write options as key=value")
    return family, options


def _text(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value).lower() if isinstance(value, bool) else str(value)


def format_spec(family: Family, options: dict[str, Any]) -> str:
    """The spec string of ``family`` with ``options``: the positional value first, then the
    options in the family's order, a flag set True as its bare word. ``parse_spec`` reads it
    back to the same options, so ``format_spec(*parse_spec(s))`` is the canonical form of s."""
    items = [str(options[family.positional])] if family.positional and options.get(family.positional) else []
    for option in family.options:
        if option.name == family.positional or option.name not in options:
            continue
        value = options[option.name]
        items.append(option.name if value is True and option.name in family.flags else f"{option.name}={_text(value)}")
    return family.name + (":" + ",".join(items) if items else "")


def canonical_spec(spec: str) -> str:
    """One spelling per predictor: aliases resolved, options in order (SpecError if bad)."""
    return format_spec(*parse_spec(spec))


def stored_spec(spec: str) -> str:
    """A spec read from a file another version may have written, with the options added
    since that it does not name set as they were before (so a changed default does not
    change what an old file means)."""
    family, options = parse_spec(spec)
    missing = [added for added in family.added if added.name not in options]
    if not missing:
        return spec
    return format_spec(family, options | {added.name: added.before for added in missing})


def with_options(spec: str, **options: Any) -> str:
    """``spec`` with the options given apart (such as a device); None leaves one out. An
    option the spec already names is refused rather than silently replaced."""
    family, parsed = parse_spec(spec)
    for key, value in options.items():
        if value is None:
            continue
        option = family.option(key)
        if option.name in parsed:
            raise SpecError(f"{key} is given twice: {value} and inside the spec {spec}; give it once")
        parsed[option.name] = _convert(option, str(value))
    return format_spec(family, parsed)


def split_specs(text: str) -> list[str]:
    """Several specs joined by commas -> the specs: in ``gzip,zstd:level=1,context_window=512``
    the last comma belongs to zstd's options (its piece names no family). Repeats refused."""
    specs: list[str] = []
    for piece in filter(None, (part.strip() for part in text.split(","))):
        if specs and piece.partition(":")[0].lower() not in _FAMILIES:
            specs[-1] += "," + piece
        else:
            specs.append(piece)
    if not specs:
        raise SpecError("no predictor spec given, e.g. gzip,zstd")
    repeated = sorted({spec for spec in specs if specs.count(spec) > 1})
    if repeated:
        raise SpecError(f"{', '.join(repeated)} named more than once")
    return specs


def load_predictor(spec: str) -> Predictor:
    """Build the predictor a spec string names, e.g. ``gzip:level=6,context_window=4096``."""
    family, options = parse_spec(spec)
    return family.build(**options)
