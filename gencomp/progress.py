"""How the library reports progress without printing: one callback type for every long loop.

A function that works through units (bytes coded, pixels or samples drawn) takes an
:data:`Advance` and calls it with how many more units are done. The caller knows the total
and sets it on its progress bar. Work made of several named pieces (one per predictor)
takes a :class:`Track`, which opens each piece with its total and gives its Advance.
"""

from __future__ import annotations

import contextlib
from typing import Callable, ContextManager, Iterator, Protocol

Advance = Callable[[int], None]  # told how many more units are done


class Track(Protocol):
    """Opens a piece of work named ``name`` of ``total`` units, ``done`` of them already
    done (a resumed run), for the ``with`` block; yields the piece's :data:`Advance`."""

    def __call__(self, name: str, total: int, done: int = 0) -> ContextManager[Advance]: ...


@contextlib.contextmanager
def untracked(name: str, total: int, done: int = 0) -> Iterator[Advance]:
    """The :class:`Track` of a caller that shows no progress."""
    yield lambda units: None
