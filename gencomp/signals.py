"""Ctrl-C at the two moments it would do harm: while a thread or a worker process starts.

A KeyboardInterrupt raised inside ``Thread.start()`` leaves a ThreadPoolExecutor's thread
running but unknown to the executor, so nothing tells it to stop and Python's exit waits
for it forever (reproduced by raising it there; a race of a few microseconds, wider on a
loaded machine). A worker process spawned with SIGINT unblocked can die with a traceback
before it ignores SIGINT (seen in CI).
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def ctrl_c_deferred() -> Iterator[None]:
    """Raise a Ctrl-C that arrives inside the block once the block is done."""
    if not _in_main_thread() or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    caught: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if caught:
        raise KeyboardInterrupt


@contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Hold SIGINT back while a worker may be spawned: the worker inherits the blocked
    signal until it ignores it (gencomp.workers), so a Ctrl-C sent to the process group
    cannot end it with a traceback while it starts; here it arrives once released."""
    if not _in_main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
