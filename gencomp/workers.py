"""Where chunks are coded: worker processes on this machine, each holding its own predictor.

Each worker rebuilds the predictor from its spec (models do not pickle) and refuses to
work if the rebuilt one has another fingerprint than the caller's. The workers split the
cores: torch in each runs cores // workers threads, since torch's default (one thread a
core in every process) put four spinning threads on two cores with two workers and made
the language model several times slower than one process. A cluster offers the same
:data:`Pool` interface (gencomp.ray_pool).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Callable, Iterable, Iterator

from gencomp.predictor import Predictor
from gencomp.signals import ctrl_c_deferred, ctrl_c_held
from gencomp.spec import load_predictor

# Maps task(predictor, *arguments[i]) over the items in `workers` workers, yielding (i, result)
# as each finishes: the local process pool (in_processes) or a cluster's (gencomp.ray_pool).
Pool = Callable[[Predictor, Callable[..., Any], Iterable[tuple], int], Iterator[tuple[int, Any]]]

_worker_predictor: Predictor | None = None


def available_cores() -> int:
    """CPUs this process may run on (its affinity, where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _start_worker(spec: str, fingerprint: str, threads: int) -> None:
    global _worker_predictor
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it ends the workers
    _worker_predictor = load_predictor(spec)
    if _worker_predictor.fingerprint != fingerprint:
        raise RuntimeError(f"worker built {_worker_predictor.fingerprint!r}, expected {fingerprint!r}")
    if "torch" in sys.modules:  # a language model imported it; never imported here for the others
        sys.modules["torch"].set_num_threads(threads)


def _run(task: Callable[..., Any], *arguments: Any) -> Any:
    """In a worker: ``task`` with the predictor the worker built."""
    assert _worker_predictor is not None
    return task(_worker_predictor, *arguments)




def in_processes(
    predictor: Predictor,
    task: Callable[..., Any],
    arguments: Iterable[tuple],
    workers: int,
) -> Iterator[tuple[int, Any]]:
    """``(i, task(predictor, *arguments[i]))`` for each item, computed in ``workers`` spawned
    processes and yielded as each finishes (not in order), so a caller can record results
    as they come. ``task`` must be importable by name (a module-level function).

    ``arguments`` is drawn only as workers become free (twice as many items as workers
    are queued), so lazily read chunks stay bounded in memory. If the caller stops early
    or anything fails (Ctrl-C included), the workers are ended at once, not left to
    finish their chunks."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    # spawn, not fork: a parent holding a language model has threads that fork would copy
    spawn = multiprocessing.get_context("spawn")
    threads = max(1, available_cores() // workers)
    pool = ProcessPoolExecutor(workers, spawn, _start_worker, (predictor.spec, predictor.fingerprint, threads))
    items = enumerate(arguments)
    pending: dict[Future, int] = {}

    def submit(count: int) -> None:
        for i, args in itertools.islice(items, count):
            with ctrl_c_deferred(), ctrl_c_held():  # submit may spawn a worker and start a thread
                pending[pool.submit(_run, task, *args)] = i

    try:
        submit(2 * workers)
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            finished = sorted((pending.pop(future), future) for future in done)
            submit(len(finished))  # keep the workers busy while the caller handles these
            for i, future in finished:
                yield i, future.result()
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown()


def _stop(pool: ProcessPoolExecutor) -> None:
    """End the workers now: shutdown() alone would let each finish its chunk (minutes for a
    language model) and hold up Ctrl-C; the executor has no public way before Python 3.14."""
    for process in list((pool._processes or {}).values()):
        process.terminate()
    pool.shutdown(cancel_futures=True)
