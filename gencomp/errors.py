"""Errors the user can fix: every module may raise them, the CLI shows them as one line."""

from __future__ import annotations


class GencompError(Exception):
    """A problem the user can fix; the message is one line that says how. The CLI shows
    it without a traceback, so raise it (or a subclass) for anything caused by input."""


class SpecError(GencompError, ValueError):
    """A predictor spec that cannot be resolved; the message says what would work."""


class UnknownModelError(SpecError):
    """A spec naming no registered family (a front end may add where the list lives)."""
