"""Chunk jobs on a Ray cluster: the local process pool's interface (:data:`workers.Pool`)
on Ray actors, for data sets one machine would take years over (the paper's 1 GB).

Each actor builds the predictor once from its spec and refuses to work if the one it
built has another fingerprint than the caller's (other library versions, weights or CPU
on that node would give other numbers). Tasks are the same functions the local pool
runs, so a cluster's codes are byte for byte the local ones. A killed actor is restarted
by Ray and its unfinished tasks run again there; each item is yielded once, whatever ran
twice. Ray is an optional extra (``pip install 'gencomp[ray]'``); nothing here imports it
until a cluster is asked for.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import socket
from typing import Any, Callable, Iterable, Iterator

from gencomp.errors import GencompError
from gencomp.predictor import Predictor
from gencomp.spec import load_predictor, parse_spec

IN_FLIGHT = 2  # tasks queued per actor: it never waits for the next, the driver holds few
RESTARTS = 3  # times a dead actor is restarted (and its unfinished tasks run again)
CONNECT_TIMEOUT = 5.0  # seconds for an address to answer before ray.init is tried
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])  # and an empty SETTINGS frame


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise GencompError("Ray is not installed; install the extra: pip install 'gencomp[ray]'") from None
    return ray


class _Worker:
    """A Ray actor holding one predictor, built once (again on each restart). A predictor
    it cannot build, or builds with another fingerprint, is kept as a problem to report,
    not raised: an actor whose start fails would be restarted by Ray again and again."""

    def __init__(self, spec: str, fingerprint: str) -> None:
        self.predictor: Predictor | None = None
        self.problem: str | None = None
        try:
            self.predictor = load_predictor(spec)
        except Exception as error:  # anything: it is reported to the driver as one line
            self.problem = f"a Ray worker on {socket.gethostname()} could not load {spec}: {error}"
            return
        if self.predictor.fingerprint != fingerprint:
            self.problem = (
                f"the Ray worker on {socket.gethostname()} built {spec} as {self.predictor.fingerprint!r}, "
                f"the driver as {fingerprint!r}: install the same gencomp, libraries and model on every node"
            )

    def ready(self) -> str | None:
        """None, or why this actor cannot work."""
        return self.problem

    def run(self, task: Callable[..., Any], *arguments: Any) -> Any:
        if self.predictor is None or self.problem:  # restarted on a node that differs
            raise GencompError(self.problem)
        return task(self.predictor, *arguments)


def gpus(predictor: Predictor) -> int:
    """GPUs an actor asks for: one for a spec on ``device=cuda``, else none."""
    return 1 if parse_spec(predictor.spec)[1].get("device") == "cuda" else 0


class RayPool:
    """:data:`gencomp.workers.Pool` on a connected Ray cluster (see :func:`cluster`).

    Actors are kept between calls for the last predictor asked for, so evaluating
    several modalities loads the model once per worker; :meth:`close` ends them."""

    def __init__(self) -> None:
        self._actors: dict[tuple[str, str], list[Any]] = {}

    def actors(self, predictor: Predictor, workers: int) -> list[Any]:
        """``workers`` actors holding ``predictor`` (started and checked if not yet)."""
        ray = _ray()
        key = (predictor.spec, predictor.fingerprint)
        if key not in self._actors:
            self.close()  # another predictor's actors hold the CPUs the new ones need
        actors = self._actors.setdefault(key, [])
        workers = min(workers, self.slots(predictor))  # more would wait for resources forever
        remote = ray.remote(num_cpus=1, num_gpus=gpus(predictor), max_restarts=RESTARTS, max_task_retries=RESTARTS)(_Worker)
        started = [remote.remote(predictor.spec, predictor.fingerprint) for _ in range(workers - len(actors))]
        try:
            problems = [problem for problem in ray.get([actor.ready.remote() for actor in started]) if problem]
        except ray.exceptions.RayActorError as error:  # not even the class could be loaded there
            problems = [f"a Ray worker could not start: {_last_line(error)}"]
        if problems:
            for actor in started:
                ray.kill(actor, no_restart=True)
            raise GencompError(problems[0])
        actors += started
        return actors[:workers]

    def __call__(self, predictor: Predictor, task: Callable[..., Any], arguments: Iterable[tuple], workers: int) -> Iterator[tuple[int, Any]]:
        """``(i, task(predictor, *arguments[i]))`` as each finishes, as
        :func:`gencomp.workers.in_processes` gives; ``arguments`` is drawn as actors free up."""
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        ray = _ray()
        actors = self.actors(predictor, workers)
        items = enumerate(arguments)
        pending: dict[Any, tuple[int, int]] = {}  # task's result ref -> (item, actor)
        busy = [0] * len(actors)

        def submit(actor: int) -> None:
            for i, args in itertools.islice(items, IN_FLIGHT - busy[actor]):
                pending[actors[actor].run.remote(task, *args)] = (i, actor)
                busy[actor] += 1

        try:
            for actor in range(len(actors)):
                submit(actor)
            while pending:
                [ref], _ = ray.wait(list(pending), num_returns=1)
                i, actor = pending.pop(ref)
                busy[actor] -= 1
                result = _result(ray, ref, predictor.spec)
                submit(actor)
                yield i, result
        finally:
            for ref in pending:  # stopped early or failed: queued tasks are dropped
                ray.cancel(ref)

    def slots(self, predictor: Predictor) -> int:
        """How many actors the cluster can run at once: its GPUs for a GPU predictor,
        else its CPUs (the default number of workers)."""
        resources = _ray().cluster_resources()
        return max(1, int(resources.get("GPU" if gpus(predictor) else "CPU", 1)))

    def close(self) -> None:
        ray = _ray()
        for actors in self._actors.values():
            for actor in actors:
                ray.kill(actor, no_restart=True)
        self._actors.clear()


def _result(ray: Any, ref: Any, spec: str) -> Any:
    """A task's result. An error the task raised comes as itself (CorruptStream stays one),
    an actor gone for good as a one-line GencompError."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as error:
        raise error.cause from None
    except ray.exceptions.RayActorError as error:
        raise GencompError(f"a Ray worker for {spec} died {RESTARTS + 1} times: {_last_line(error)}") from None


def _last_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


@contextlib.contextmanager
def cluster(address: str) -> Iterator[RayPool]:
    """A :class:`RayPool` on the cluster at ``address`` for the block: ``auto`` (the
    ``RAY_ADDRESS`` cluster, else the one `ray start` left on this machine), ``local`` (a
    new one here, ended after), or ``HOST:PORT`` / ``ray://HOST:PORT``. If this process is
    already connected (a notebook, a test), that connection is used and kept."""
    ray = _ray()
    started = not ray.is_initialized()
    if started:
        _connect(ray, address)
    pool = RayPool()
    try:
        yield pool
    finally:
        pool.close()
        if started:
            ray.shutdown()


def _connect(ray: Any, address: str) -> None:
    """ray.init, quiet, with an unreachable address refused within seconds, not hung on
    (ray.init itself retries an address that does not answer for minutes)."""
    if address == "auto":
        address = os.environ.get("RAY_ADDRESS") or "auto"
    quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
    if address == "local":
        quiet["include_dashboard"] = False
    elif address != "auto":
        _probe(address)
    try:
        with _stderr_muted():  # Ray's C++ client logs each retry of an address that does not answer
            ray.init(address=address, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as error:
        if address == "auto":
            raise GencompError("no running Ray cluster found: set RAY_ADDRESS, or run `ray start --head` here") from None
        raise GencompError(f"cannot connect to a Ray cluster at {address}: {str(error).splitlines()[0]}") from None


@contextlib.contextmanager
def _stderr_muted() -> Iterator[None]:
    """File descriptor 2 to /dev/null for the block (C++ logging bypasses Python's)."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _probe(address: str) -> None:
    """A one-line GencompError unless something at ``address`` answers like a Ray head
    (whose GCS is a gRPC server: it answers the HTTP/2 preface) within CONNECT_TIMEOUT."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise GencompError(f"Ray address {address!r} is not HOST:PORT, ray://HOST:PORT, auto or local")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT) as connection:
            connection.sendall(HTTP2_PREFACE)
            answer = connection.recv(9)
    except TimeoutError:
        answer = b""
    except OSError as error:
        raise GencompError(f"cannot reach a Ray cluster at {address}: {error.strerror or error}") from None
    if not answer:
        raise GencompError(f"nothing at {address} answered like a Ray cluster within {CONNECT_TIMEOUT:.0f} s")
