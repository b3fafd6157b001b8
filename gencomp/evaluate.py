"""Compression rates in the paper's protocol (its Table 1), on bundled or the user's data.

Every row is measured on the same chunks of 2048 bytes per modality:
- classical compressors applied directly (gzip, LZMA2, zstd, bzip2, PNG, FLAC), once to all
  chunks together (unchunked) and once to each chunk, the container's fixed cost counted
  once (chunked: Σ size(chunk) − (n − 1) · header);
- predictors through arithmetic coding, each chunk on its own (:func:`code_chunk`);
  for a language model on images and audio both the full bytes and the paper's 7-bit
  mapping (each byte shifted right by one, rate scaled by 8/7), labelled.
Rate = compressed bytes / raw bytes, with a 95% interval over chunks (:func:`rate_margin`)
where there are several. The adjusted rate adds the model's size at 2 bytes a parameter
(0 for compressors).

Chunks are read when they are coded (:class:`Chunks`), so memory follows the workers, not
the data. Each predictor chunk's result can be appended to a results file as it finishes
(:class:`ResultsLog`), and a run resumed from it. Nothing here prints; the CLI shows the
results.
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import gzip
import hashlib
import io
import json
import lzma
import math
import os
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Container, Iterable, Iterator, Sequence, overload

import numpy as np
import zstandard

from gencomp import coding, datasets, modalities
from gencomp.predictor import GencompError, Predictor, parse_spec

CHUNK_SIZE = datasets.CHUNK_SIZE
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".aiff", ".aif", ".au"}
IMAGE_WIDTH = modalities.PATCH_SHAPE[1]  # PNG sees any bytes as rows of this many pixels
CONFIDENCE = 0.95  # of the rate intervals

# The paper's Table 1 (raw rate %, chunks of 2048 bytes), for comparison only.
PAPER = {
    "data": {"text": "enwik9", "image": "ImageNet", "audio": "LibriSpeech", "random": "random"},
    "chunked": {
        "gzip": {"text": 48.1, "image": 68.6, "audio": 38.5, "random": 100.1},
        "lzma": {"text": 50.0, "image": 62.4, "audio": 38.2, "random": 100.0},
        "png": {"text": 80.6, "image": 61.7, "audio": 37.6, "random": 103.2},
        "flac": {"text": 88.9, "image": 60.9, "audio": 30.3, "random": 107.2},
        "Llama 2 7B": {"text": 8.9, "image": 53.4, "audio": 23.1, "random": 103.2},
        "Chinchilla 70B": {"text": 8.3, "image": 48.0, "audio": 21.0, "random": 100.8},
    },
    "unchunked": {
        "gzip": {"text": 32.3, "image": 70.7, "audio": 36.4},
        "lzma": {"text": 23.0, "image": 57.9, "audio": 29.9},
        "png": {"text": 42.9, "image": 58.5, "audio": 32.2},
        "flac": {"text": 89.5, "image": 61.9, "audio": 30.9},
    },
}


# ---------------------------------------------------------------------------- data


class Chunks(Sequence[bytes]):
    """A modality's chunks, each read only when asked for: memory is bounded by what is
    being coded, not by the data. ``numbers`` are the chunks' places in the whole data
    (a selection keeps them, and results files record them); ``lengths`` their sizes,
    known without reading them."""

    def __init__(self, read: Callable[[int], bytes], lengths: np.ndarray, numbers: np.ndarray | None = None) -> None:
        self._read = read
        self._lengths = np.asarray(lengths, dtype=np.int64)
        self.numbers = np.arange(len(self._lengths)) if numbers is None else np.asarray(numbers, dtype=np.int64)

    @classmethod
    def of(cls, pieces: Sequence[bytes]) -> Chunks:
        """Chunks already in memory."""
        pieces = list(pieces)
        return cls(pieces.__getitem__, np.array([len(p) for p in pieces], dtype=np.int64))

    @property
    def lengths(self) -> np.ndarray:
        return self._lengths[self.numbers]

    def read(self, number: int) -> bytes:
        """Chunk ``number`` of the whole data (selected or not)."""
        return self._read(int(number))

    def pick(self, positions: np.ndarray | slice) -> Chunks:
        """The chunks at these positions of this sequence."""
        return Chunks(self._read, self._lengths, self.numbers[positions])

    def __len__(self) -> int:
        return len(self.numbers)

    def __repr__(self) -> str:
        return f"Chunks({len(self)} of {len(self._lengths)}, {int(self.lengths.sum()):,} bytes)"

    @overload
    def __getitem__(self, position: int) -> bytes: ...
    @overload
    def __getitem__(self, position: slice) -> Chunks: ...
    def __getitem__(self, position: int | slice) -> bytes | Chunks:
        if isinstance(position, slice):
            return self.pick(position)
        return self.read(self.numbers[position])  # IndexError past the end ends iteration


@dataclass(frozen=True)
class Modality:
    """Chunks of one kind of data, and where they came from (to tell the user). Cheap to
    build: ``chunks`` reads nothing until asked (a list of bytes is taken as it is)."""

    name: str
    source: str
    chunks: Chunks

    def __post_init__(self) -> None:
        if not isinstance(self.chunks, Chunks):
            object.__setattr__(self, "chunks", Chunks.of(self.chunks))

    @property
    def size(self) -> int:
        return int(self.chunks.lengths.sum())


def bundled_data(random_bytes: int = 64 * CHUNK_SIZE, seed: int = 0) -> list[Modality]:
    """Text, image, audio and random chunks from the bundled real data (DESIGN.md)."""
    text = datasets.text_corpus()
    patches = [
        patch.tobytes()
        for name in datasets.BUNDLED_IMAGES
        for patch in modalities.image_patches(modalities.to_grayscale(datasets.bundled_image(name)))
    ]
    speech = modalities.audio_to_bytes(modalities.read_audio(datasets.bundled_speech()).samples)
    noise = np.random.default_rng(seed).integers(0, 256, random_bytes, dtype=np.uint8).tobytes()
    return [
        Modality("text", text.source, _in_memory(text.data)),
        Modality("image", f"grayscale 32×64 patches of scikit-image's {', '.join(datasets.BUNDLED_IMAGES)}", Chunks.of(patches)),
        Modality("audio", f"{datasets.SPEECH_FILE} (speech, 16 kHz, 8-bit)", _in_memory(speech)),
        Modality("random", f"uniform random bytes (numpy, seed {seed})", _in_memory(noise)),
    ]


def file_data(paths: Iterable[Path]) -> list[Modality]:
    """The user's files (folders: every file inside, sorted), grouped by kind: images
    become grayscale 32×64 patches, audio 16 kHz 8-bit, anything else stays bytes (the
    last chunk of a file may be short). Only headers are read here: a byte file is read a
    chunk at a time later, an image or audio file decoded when its chunks are first read."""
    groups: dict[str, list[tuple[str, Chunks]]] = {}
    for path in _expand(paths):
        kind, chunks = _file_chunks(path)
        groups.setdefault(kind, []).append((path.name, chunks))
    if not groups:
        raise GencompError("no files to evaluate in the --data given")
    return [Modality(kind, ", ".join(name for name, _ in files), _joined([c for _, c in files])) for kind, files in groups.items()]


def select(modality: Modality, limit: int | None = None, sample: int | None = None, seed: int = 0) -> Modality:
    """The first ``limit`` chunks, or ``sample`` chunks drawn at random (in file order)."""
    count = len(modality.chunks)
    positions = np.arange(count)
    if sample is not None and sample < count:
        positions = np.sort(np.random.default_rng(seed).choice(count, size=sample, replace=False))
    if limit is not None:
        positions = positions[:limit]
    return Modality(modality.name, modality.source, modality.chunks.pick(positions))


def _lengths(size: int, whole_only: bool = False) -> np.ndarray:
    """Lengths of the chunks ``size`` bytes make: the last one short, or dropped."""
    count = size // CHUNK_SIZE if whole_only else -(-size // CHUNK_SIZE)
    return np.minimum(CHUNK_SIZE, size - CHUNK_SIZE * np.arange(count, dtype=np.int64))


def _in_memory(data: bytes) -> Chunks:
    """The paper's chunks of bundled data: whole 2048-byte pieces (a shorter tail is dropped)."""
    return Chunks(lambda number: data[number * CHUNK_SIZE : (number + 1) * CHUNK_SIZE], _lengths(len(data), whole_only=True))


def _joined(parts: list[Chunks]) -> Chunks:
    """Several files' chunks as one sequence."""
    if len(parts) == 1:
        return parts[0]
    starts = np.cumsum([0] + [len(part) for part in parts])

    def read(number: int) -> bytes:
        part = int(np.searchsorted(starts, number, side="right")) - 1
        return parts[part].read(number - starts[part])

    return Chunks(read, np.concatenate([part.lengths for part in parts]))


def _expand(paths: Iterable[Path]) -> list[Path]:
    files = []
    for path in paths:
        if not path.exists():
            raise GencompError(f"{path} does not exist")
        files.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return files


def _file_chunks(path: Path) -> tuple[str, Chunks]:
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES or suffix in AUDIO_SUFFIXES:
        kind = "image" if suffix in IMAGE_SUFFIXES else "audio"
        lengths = _image_lengths(path) if kind == "image" else _lengths(_audio_samples(path))

        def read(number: int) -> bytes:
            chunks = _decoded(path, kind)
            if len(chunks) != len(lengths):
                raise GencompError(f"{path} decoded to {len(chunks)} chunks, its header promised {len(lengths)}")
            return chunks[number]

        return kind, Chunks(read, lengths)
    size = path.stat().st_size
    lengths = _lengths(size)

    def read_bytes(number: int) -> bytes:
        with open(path, "rb") as file:
            file.seek(number * CHUNK_SIZE)
            chunk = file.read(CHUNK_SIZE)
        if len(chunk) != lengths[number]:
            raise GencompError(f"{path} changed while it was being evaluated")
        return chunk

    return ("text" if _is_utf8(path) else "bytes"), Chunks(read_bytes, lengths)


def _is_utf8(path: Path) -> bool:
    """Whether the whole file is UTF-8, read a megabyte at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _image_lengths(path: Path) -> np.ndarray:
    """One 2048-byte chunk per whole 32×64 patch, counted from the image's header."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as error:
        raise GencompError(f"cannot read {path} as an image: {error}") from None
    rows, cols = modalities.PATCH_SHAPE
    return np.full((height // rows) * (width // cols), rows * cols, dtype=np.int64)


def _audio_samples(path: Path) -> int:
    """Samples at 16 kHz (one byte each) the file holds, from its header; resampling
    (scipy's resample_poly) gives ceil(frames · 16000 / rate)."""
    import soundfile

    try:
        info = soundfile.info(str(path))
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as error:
        raise GencompError(f"cannot read {path} as audio: {error}") from None
    return -(-info.frames * modalities.SAMPLE_RATE // info.samplerate)


@lru_cache(maxsize=1)  # one file's chunks at a time: they are read in order
def _decoded(path: Path, kind: str) -> list[bytes]:
    if kind == "image":
        gray, _ = modalities.read_image(path)
        return [patch.tobytes() for patch in modalities.image_patches(gray)]
    return list(datasets.chunks(modalities.audio_to_bytes(modalities.read_audio(path).samples)))


# ------------------------------------------------------------------ classical codecs


def _png(data: bytes) -> bytes:
    """Any bytes as a grayscale image IMAGE_WIDTH pixels wide (a short last row is padded
    with zeros), written by Pillow at its strongest setting."""
    from PIL import Image

    width = min(IMAGE_WIDTH, max(len(data), 1))
    rows = -(-max(len(data), 1) // width)
    pixels = np.zeros(rows * width, dtype=np.uint8)
    pixels[: len(data)] = np.frombuffer(data, dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels.reshape(rows, width), mode="L").save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _flac(data: bytes) -> bytes:
    """Any bytes as unsigned 8-bit mono samples at 16 kHz, written by libsndfile."""
    import soundfile

    samples = modalities.bytes_to_audio(data, bits=8)
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, modalities.SAMPLE_RATE, format="FLAC", subtype="PCM_S8")
    return buffer.getvalue()


CODECS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "gzip": ("gzip -9 (Python's gzip)", lambda data: gzip.compress(data, compresslevel=9, mtime=0)),
    "lzma": ("LZMA2 in .xz, preset 6 (Python's lzma)", lambda data: lzma.compress(data, preset=6)),
    "zstd": ("Zstandard level 19", lambda data: zstandard.ZstdCompressor(level=19).compress(data)),
    "bz2": ("bzip2 -9 (Python's bz2)", lambda data: bz2.compress(data, 9)),
    "png": ("PNG via Pillow (bytes as 64-pixel rows)", _png),
    "flac": ("FLAC via soundfile (bytes as 8-bit samples)", _flac),
}


def header_bytes(codec: str) -> int:
    """A codec's fixed cost: the size of one byte compressed, less that byte."""
    return len(CODECS[codec][1](b"\0")) - 1


def classical_sizes(codec: str, chunks: Sequence[bytes]) -> tuple[int, list[int]]:
    """(size of the chunks compressed together, size of each chunk compressed on its own)."""
    compress = CODECS[codec][1]
    return len(compress(b"".join(chunks))), [len(compress(chunk)) for chunk in chunks]


# ------------------------------------------------------------------------ intervals


def rate_margin(raw: Sequence[int], compressed: Sequence[float], confidence: float = CONFIDENCE) -> float | None:
    """Half-width of a ``confidence`` interval for the pooled rate R = Σcompressed / Σraw
    (as a fraction of the raw size), the n chunks taken as a sample of the data's chunks.

    R is a ratio estimator, so its standard error comes from the residuals
    dᵢ = compressedᵢ − R · rawᵢ: se = sqrt(Σdᵢ² / (n − 1) / n) / mean(raw) (Cochran,
    *Sampling Techniques*, §6.3), and the half-width is Student's t with n − 1 degrees of
    freedom times se. A t interval, not a bootstrap: it needs no seed, and it stays honest
    (wide) at the few chunks a language-model row has, where a bootstrap is too narrow.
    With chunks of equal size it is the usual t interval of the per-chunk rates' mean.
    None for fewer than two chunks: one chunk shows no spread."""
    n = len(raw)
    if n < 2:
        return None
    from scipy.stats import t

    raw_, compressed_ = np.asarray(raw, dtype=np.float64), np.asarray(compressed, dtype=np.float64)
    residuals = compressed_ - compressed_.sum() / raw_.sum() * raw_
    error = math.sqrt(residuals @ residuals / (n - 1) / n) / raw_.mean()
    return float(t.ppf((1 + confidence) / 2, n - 1) * error)


# ------------------------------------------------------------------------- results


@dataclass
class Result:
    """One cell of the table: a method on one modality."""

    row: str  # e.g. "gzip", "gzip (chunked)", "predictor gzip:level=9,…"
    method: str  # what was run
    mapping: str  # "8-bit" or "7-bit" (the paper's LLM input; rate scaled by 8/7)
    modality: str
    raw_bytes: int
    compressed_bytes: int
    chunks: int
    parameters: int = 0  # of the model behind a predictor
    ideal_bits: float | None = None  # Σ -log2 p for predictors
    seconds: float = 0.0  # for predictors: each chunk's coding time, summed
    margin: float | None = None  # of the rate's interval, a fraction of raw size; None: no interval

    @property
    def scale(self) -> float:
        return 8 / 7 if self.mapping == "7-bit" else 1.0

    @property
    def rate(self) -> float:
        """Compressed / raw size, in percent."""
        return 100 * self.scale * self.compressed_bytes / self.raw_bytes if self.raw_bytes else float("nan")

    @property
    def rate_low(self) -> float | None:
        """The lower end of the rate's 95% interval over chunks (see :func:`rate_margin`)."""
        return None if self.margin is None else self.rate - 100 * self.scale * self.margin

    @property
    def rate_high(self) -> float | None:
        return None if self.margin is None else self.rate + 100 * self.scale * self.margin

    @property
    def adjusted_rate(self) -> float:
        """The rate with the model counted in: 2 bytes per parameter."""
        if not self.raw_bytes:
            return float("nan")
        return 100 * self.scale * (self.compressed_bytes + 2 * self.parameters) / self.raw_bytes

    def as_dict(self) -> dict:
        values = {k: v for k, v in asdict(self).items() if k != "margin"}
        return values | {"rate": self.rate, "rate_low": self.rate_low, "rate_high": self.rate_high, "adjusted_rate": self.adjusted_rate}


def evaluate_classical(data: list[Modality], codecs: Iterable[str] = CODECS) -> list[Result]:
    """Every codec, unchunked and chunked, on every modality (each read once)."""
    results = []
    for modality in data:
        chunks, raw = list(modality.chunks), modality.chunks.lengths
        for codec in codecs:
            method, header = CODECS[codec][0], header_bytes(codec)
            start = time.perf_counter()
            unchunked, sizes = classical_sizes(codec, chunks)
            seconds = time.perf_counter() - start
            n = len(chunks)
            results.append(Result(codec, method, "8-bit", modality.name, modality.size, unchunked, n, seconds=seconds))
            results.append(
                Result(f"{codec} (chunked)", f"{method}, each chunk, header once ({header} B)", "8-bit", modality.name,
                       modality.size, sum(sizes) - (n - 1) * header, n, seconds=seconds,
                       margin=rate_margin(raw, [size - header for size in sizes]))  # the header's one copy is no spread
            )
    return results


def is_language_model(predictor: Predictor) -> bool:
    return parse_spec(predictor.spec)[0].name == "llm"


def parameter_count(predictor: Predictor) -> int:
    """Parameters of the model behind a predictor; 0 for compressors."""
    model = getattr(predictor, "model", None)
    return int(model.num_parameters()) if hasattr(model, "num_parameters") else 0


def mappings(predictor: Predictor, modality: str) -> list[str]:
    """Full bytes always; for a language model on images and audio also the paper's 7 bits."""
    return ["8-bit", "7-bit"] if is_language_model(predictor) and modality in ("image", "audio") else ["8-bit"]


@dataclass(frozen=True)
class ChunkResult:
    """One chunk coded by one predictor: a line of a results file."""

    row: str
    spec: str  # the predictor's full spec
    mapping: str
    modality: str
    chunk: int  # its number in the modality's data (before --limit / --sample)
    raw_bytes: int
    compressed_bytes: int
    ideal_bits: float
    seconds: float


def code_chunk(predictor: Predictor, chunk: bytes, advance: coding.Advance | None = None) -> coding.CodedChunk:
    """Arithmetic-code one chunk for its rate. Every predictor chunk of the table is coded
    here, in this process and in the workers, so a faster scorer for a kind of predictor
    has one place to go."""
    return coding.encode_chunk(predictor, chunk, advance)


def _timed_chunk(predictor: Predictor, chunk: bytes, advance: coding.Advance | None = None) -> tuple[coding.CodedChunk, float]:
    """:func:`code_chunk` and its seconds, timed where it runs (in a worker: its own clock)."""
    start = time.perf_counter()
    return code_chunk(predictor, chunk, advance), time.perf_counter() - start


def code_chunks(
    predictor: Predictor,
    modality: Modality,
    mapping: str = "8-bit",
    workers: int = 1,
    skip: Container[int] = (),
    label: str | None = None,
    advance: coding.Advance | None = None,
) -> Iterator[ChunkResult]:
    """Each chunk of ``modality`` whose number is not in ``skip``, coded on its own, yielded
    as it finishes (in any order with several workers); chunks are read as workers free up."""
    todo = [(int(n), int(size)) for n, size in zip(modality.chunks.numbers, modality.chunks.lengths) if int(n) not in skip]

    def data(number: int) -> bytes:
        chunk = modality.chunks.read(number)
        return modalities.to_7bit(chunk) if mapping == "7-bit" else chunk

    def result(number: int, size: int, coded: coding.CodedChunk, seconds: float) -> ChunkResult:
        return ChunkResult(label or predictor.spec, predictor.spec, mapping, modality.name, number, size, len(coded.data), coded.ideal_bits, seconds)

    if workers <= 1 or len(todo) <= 1:
        for number, size in todo:
            yield result(number, size, *_timed_chunk(predictor, data(number), advance))
        return
    arguments = ((data(number),) for number, _ in todo)
    with contextlib.closing(coding.in_processes(predictor, _timed_chunk, arguments, min(workers, len(todo)))) as finished:
        for i, (coded, seconds) in finished:
            if advance:
                advance(todo[i][1])
            yield result(*todo[i], coded, seconds)


def evaluate_predictor(
    predictor: Predictor,
    modality: Modality,
    mapping: str = "8-bit",
    workers: int = 1,
    advance: coding.Advance | None = None,
    label: str | None = None,
    log: ResultsLog | None = None,
) -> Result:
    """Arithmetic-code each chunk on its own; the rate counts the codes' bytes. The row
    is called ``label`` (default: the predictor's full spec). Chunks ``log`` already holds
    are not coded again; the others are appended to it as they finish."""
    wanted = set(modality.chunks.numbers.tolist())
    done = {n: r for n, r in (log.finished(predictor.spec, mapping, modality.name) if log else {}).items() if n in wanted}
    chunks = list(done.values())
    # closing: a Ctrl-C while a line is written ends the workers now, not when collected
    with contextlib.closing(code_chunks(predictor, modality, mapping, workers, done, label, advance)) as coded:
        for chunk in coded:
            if log:
                log.append(chunk)
            chunks.append(chunk)
    chunks.sort(key=lambda c: c.chunk)  # sums in one order, however the workers finished
    raw, compressed = [c.raw_bytes for c in chunks], [c.compressed_bytes for c in chunks]
    return Result(
        row=label or predictor.spec,
        method=f"arithmetic coding with {predictor.spec}, each chunk on its own",
        mapping=mapping,
        modality=modality.name,
        raw_bytes=sum(raw),
        compressed_bytes=sum(compressed),
        chunks=len(chunks),
        parameters=parameter_count(predictor),
        ideal_bits=sum(c.ideal_bits for c in chunks),
        seconds=sum(c.seconds for c in chunks),
        margin=rate_margin(raw, compressed),
    )


# -------------------------------------------------------------------- results files
# A results file is JSON lines: a header naming the run's settings, then one line per
# finished predictor chunk (a ChunkResult), each written whole by one unbuffered write,
# so an interrupted run leaves a file a resumed run can read and continue.

RESULTS_FORMAT = "gencomp evaluate results"
RESULTS_VERSION = 1


def run_settings(predictors: Iterable[Predictor], data: list[Modality], limit: int | None, sample: int | None, seed: int) -> dict[str, Any]:
    """What the chunks of a results file depend on: a resumed run must match all of it.
    The data are identified by their selected chunks' content, not by file names."""
    return {
        "chunk_size": CHUNK_SIZE,
        "models": {predictor.spec: predictor.fingerprint for predictor in predictors},
        "selection": {"limit": limit, "sample": sample, "seed": seed},  # before data: named first when both differ
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
