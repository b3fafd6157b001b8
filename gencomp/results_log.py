"""The per-chunk results file of `gencomp evaluate`, and resuming a run from it.

A results file is JSON lines: a header naming the run's settings (:func:`run_settings`),
then one line per finished predictor chunk (a :class:`ChunkResult`), each written whole by
one unbuffered write, so an interrupted run leaves a file a resumed run can read and
continue (:class:`ResultsLog`), provided it is resumed with the same settings.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from gencomp.eval_data import CHUNK_SIZE, Chunks, DataSet
from gencomp.errors import GencompError
from gencomp.predictor import Predictor

RESULTS_FORMAT = "gencomp evaluate results"
RESULTS_VERSION = 1


@dataclass(frozen=True)
class ChunkResult:
    """One chunk coded by one predictor: a line of a results file."""

    row: str
    spec: str  # the predictor's full spec
    mapping: str
    modality: str
    chunk: int  # its number in the modality's data (before a selection)
    raw_bytes: int
    compressed_bytes: int
    ideal_bits: float
    seconds: float


def run_settings(predictors: Iterable[Predictor], data: list[DataSet], limit: int | None, count: int | None, seed: int) -> dict[str, Any]:
    """What the chunks of a results file depend on: a resumed run must match all of it.
    The data are identified by their selected chunks' content, not by file names."""
    return {
        "chunk_size": CHUNK_SIZE,
        "models": {predictor.spec: predictor.fingerprint for predictor in predictors},
        "selection": {"limit": limit, "sample": count, "seed": seed},  # before data: named first when both differ
        "data": {m.name: {"source": m.source, "chunks": len(m.chunks), "bytes": m.size, "sha256": _digest(m.chunks)} for m in data},
    }


def _digest(chunks: Chunks) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(len(chunk).to_bytes(8, "little") + chunk)
    return digest.hexdigest()


def results_header(settings: dict[str, Any]) -> bytes:
    """The first line of a results file."""
    return _line({"format": RESULTS_FORMAT, "version": RESULTS_VERSION, "settings": settings})


def _line(value: dict[str, Any]) -> bytes:
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


@dataclass(frozen=True)
class RecordedRun:
    """What a results file holds."""

    settings: dict[str, Any]
    results: list[ChunkResult]
    whole_size: int  # bytes up to the end of the last whole line
    truncated: bool  # whether a last line cut off mid-write follows (it is left out)


def read_results(path: Path) -> RecordedRun:
    """A results file's settings and finished chunks; a GencompError for a file that is
    not one (or was edited into something else)."""
    data = path.read_bytes()
    whole_size = data.rfind(b"\n") + 1
    lines = data[:whole_size].splitlines()
    header = _json(lines[0]) if lines else None
    if not (isinstance(header, dict) and header.get("format") == RESULTS_FORMAT and isinstance(header.get("settings"), dict)):
        raise GencompError(f"{path} is not a gencomp evaluate results file")
    if header.get("version") != RESULTS_VERSION:
        raise GencompError(f"{path} is a results file of version {header.get('version')}; this gencomp reads version {RESULTS_VERSION}")
    results = []
    for number, line in enumerate(lines[1:], start=2):
        result = _chunk_result(_json(line))
        if result is None:
            raise GencompError(f"{path}: line {number} is not a chunk result (edited, or not written by gencomp evaluate)")
        results.append(result)
    return RecordedRun(header["settings"], results, whole_size, whole_size < len(data))


def _json(line: bytes) -> Any:
    try:
        return json.loads(line)
    except ValueError:  # UnicodeDecodeError included
        return None


def _chunk_result(value: Any) -> ChunkResult | None:
    """The ChunkResult a parsed line holds, if it holds exactly one (right fields and types)."""
    types = {"row": str, "spec": str, "mapping": str, "modality": str, "chunk": int, "raw_bytes": int,
             "compressed_bytes": int, "ideal_bits": (int, float), "seconds": (int, float)}
    if not (isinstance(value, dict) and value.keys() == types.keys()):
        return None
    if not all(isinstance(value[k], t) and not isinstance(value[k], bool) for k, t in types.items()):
        return None
    return ChunkResult(**value)


def settings_differences(before: Any, now: Any, where: str = "settings") -> list[str]:
    """What differs between a results file's settings and this run's, one phrase each,
    e.g. ``selection.limit: 2 in the file, 4 now``."""
    if before == now:
        return []
    if isinstance(before, dict) and isinstance(now, dict) and before.keys() == now.keys():
        return [phrase for key in now for phrase in settings_differences(before[key], now[key], f"{where}.{key}")]
    where = where.removeprefix("settings.")
    if isinstance(before, dict) and isinstance(now, dict):  # other models or modalities: name them all
        return [f"{where}: {', '.join(before) or 'none'} in the file, {', '.join(now) or 'none'} now"]
    return [f"{where}: {_short(before)} in the file, {_short(now)} now"]


def _short(value: Any, width: int = 40) -> str:
    """A setting's value cut to fit a one-line message (a hash needs only its start)."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= width else text[: width - 1] + "…"


class ResultsLog:
    """The results file of a run in progress: which chunks are done, and appending more."""

    def __init__(self, path: Path, finished: Iterable[ChunkResult] = ()) -> None:
        self.path = path
        self._finished: dict[tuple[str, str, str], dict[int, ChunkResult]] = {}
        for result in finished:
            self._remember(result)

    @classmethod
    def resume(cls, path: Path, recorded: RecordedRun, settings: dict[str, Any]) -> ResultsLog:
        """Continue ``recorded`` (read from ``path``) if it was made with ``settings``;
        otherwise a GencompError naming what differs, and the file is left as it is. A
        last line cut off mid-write is removed, so that appended lines start whole."""
        differences = settings_differences(recorded.settings, settings)
        if differences:
            raise GencompError(f"{path} was made with other settings: {'; '.join(differences)}")
        if recorded.truncated:
            os.truncate(path, recorded.whole_size)
        return cls(path, recorded.results)

    def finished(self, spec: str, mapping: str, modality: str) -> dict[int, ChunkResult]:
        """Chunk number -> result, of the chunks of a row already done."""
        return dict(self._finished.get((spec, mapping, modality), {}))

    def append(self, result: ChunkResult) -> None:
        with open(self.path, "ab", buffering=0) as file:  # one write: a line is there whole or not at all
            file.write(_line(asdict(result)))
        self._remember(result)

    def _remember(self, result: ChunkResult) -> None:
        self._finished.setdefault((result.spec, result.mapping, result.modality), {})[result.chunk] = result
