"""Compression rates in the paper's protocol (its Table 1), on bundled or the user's data.

Every row is measured on the same chunks of 2048 bytes per modality:
- classical compressors applied directly (gzip, LZMA2, zstd, bzip2, PNG, FLAC), once to all
  chunks together (unchunked) and once to each chunk, the container's fixed cost counted
  once (chunked: Σ size(chunk) − (n − 1) · header);
- predictors through arithmetic coding, each chunk on its own (:mod:`gencomp.coding`);
  for a language model on images and audio both the full bytes and the paper's 7-bit
  mapping (each byte shifted right by one, rate scaled by 8/7), labelled.
Rate = compressed bytes / raw bytes. The adjusted rate adds the model's size at 2 bytes a
parameter (0 for compressors). Nothing here prints; the CLI shows the results.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import zstandard

from gencomp import coding, datasets, modalities
from gencomp.predictor import GencompError, Predictor, parse_spec

CHUNK_SIZE = datasets.CHUNK_SIZE
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".aiff", ".aif", ".au"}
IMAGE_WIDTH = modalities.PATCH_SHAPE[1]  # PNG sees any bytes as rows of this many pixels

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


@dataclass(frozen=True)
class Modality:
    """Chunks of one kind of data, and where they came from (to tell the user)."""

    name: str
    source: str
    chunks: list[bytes]

    @property
    def size(self) -> int:
        return sum(map(len, self.chunks))


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
        Modality("text", text.source, _full_chunks(text.data)),
        Modality("image", f"grayscale 32×64 patches of scikit-image's {', '.join(datasets.BUNDLED_IMAGES)}", patches),
        Modality("audio", f"{datasets.SPEECH_FILE} (speech, 16 kHz, 8-bit)", _full_chunks(speech)),
        Modality("random", f"uniform random bytes (numpy, seed {seed})", _full_chunks(noise)),
    ]


def file_data(paths: Iterable[Path]) -> list[Modality]:
    """The user's files (folders: every file inside, sorted), grouped by kind: images
    become grayscale 32×64 patches, audio 16 kHz 8-bit, anything else stays bytes."""
    groups: dict[str, list[bytes]] = {}
    sources: dict[str, list[str]] = {}
    for path in _expand(paths):
        kind, chunks = _file_chunks(path)
        groups.setdefault(kind, []).extend(chunks)
        sources.setdefault(kind, []).append(path.name)
    if not groups:
        raise GencompError("no files to evaluate in the --data given")
    return [Modality(kind, ", ".join(sources[kind]), chunks) for kind, chunks in groups.items()]


def select(modality: Modality, limit: int | None = None, sample: int | None = None, seed: int = 0) -> Modality:
    """The first ``limit`` chunks, or ``sample`` chunks drawn at random (in file order)."""
    chunks = modality.chunks
    if sample is not None and sample < len(chunks):
        picked = np.random.default_rng(seed).choice(len(chunks), size=sample, replace=False)
        chunks = [chunks[i] for i in sorted(picked)]
    if limit is not None:
        chunks = chunks[:limit]
    return Modality(modality.name, modality.source, chunks)


def _full_chunks(data: bytes) -> list[bytes]:
    """The paper's chunks: whole 2048-byte pieces (a shorter tail is dropped)."""
    return [chunk for chunk in datasets.chunks(data, CHUNK_SIZE) if len(chunk) == CHUNK_SIZE]


def _expand(paths: Iterable[Path]) -> list[Path]:
    files = []
    for path in paths:
        if not path.exists():
            raise GencompError(f"{path} does not exist")
        files.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return files


def _file_chunks(path: Path) -> tuple[str, list[bytes]]:
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        gray, _ = modalities.read_image(path)
        return "image", [patch.tobytes() for patch in modalities.image_patches(gray)]
    if suffix in AUDIO_SUFFIXES:
        samples = modalities.read_audio(path).samples
        return "audio", list(datasets.chunks(modalities.audio_to_bytes(samples)))
    data = path.read_bytes()
    try:
        data.decode("utf-8")
        kind = "text"
    except UnicodeDecodeError:
        kind = "bytes"
    return kind, list(datasets.chunks(data))


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


def classical_sizes(codec: str, chunks: list[bytes]) -> tuple[int, int]:
    """(unchunked size, chunked size with the header counted once) of the chunks."""
    compress = CODECS[codec][1]
    unchunked = len(compress(b"".join(chunks)))
    chunked = sum(len(compress(chunk)) for chunk in chunks) - (len(chunks) - 1) * header_bytes(codec)
    return unchunked, chunked


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
    seconds: float = 0.0

    @property
    def scale(self) -> float:
        return 8 / 7 if self.mapping == "7-bit" else 1.0

    @property
    def rate(self) -> float:
        """Compressed / raw size, in percent."""
        return 100 * self.scale * self.compressed_bytes / self.raw_bytes if self.raw_bytes else float("nan")

    @property
    def adjusted_rate(self) -> float:
        """The rate with the model counted in: 2 bytes per parameter."""
        if not self.raw_bytes:
            return float("nan")
        return 100 * self.scale * (self.compressed_bytes + 2 * self.parameters) / self.raw_bytes

    def as_dict(self) -> dict:
        return asdict(self) | {"rate": self.rate, "adjusted_rate": self.adjusted_rate}


def evaluate_classical(data: list[Modality], codecs: Iterable[str] = CODECS) -> list[Result]:
    """Every codec, unchunked and chunked, on every modality."""
    results = []
    for codec in codecs:
        method = CODECS[codec][0]
        for modality in data:
            start = time.perf_counter()
            unchunked, chunked = classical_sizes(codec, modality.chunks)
            seconds = time.perf_counter() - start
            n = len(modality.chunks)
            results.append(Result(codec, method, "8-bit", modality.name, modality.size, unchunked, n, seconds=seconds))
            results.append(
                Result(f"{codec} (chunked)", f"{method}, each chunk, header once ({header_bytes(codec)} B)",
                       "8-bit", modality.name, modality.size, chunked, n, seconds=seconds)
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


def evaluate_predictor(
    predictor: Predictor,
    modality: Modality,
    mapping: str = "8-bit",
    workers: int = 1,
    advance: coding.Advance | None = None,
    label: str | None = None,
) -> Result:
    """Arithmetic-code each chunk on its own; the rate counts the codes' bytes. The row
    is called ``label`` (default: the predictor's full spec)."""
    chunks = [modalities.to_7bit(c) for c in modality.chunks] if mapping == "7-bit" else modality.chunks
    start = time.perf_counter()
    coded = coding.encode_chunks(predictor, chunks, workers, advance)
    return Result(
        row=label or predictor.spec,
        method=f"arithmetic coding with {predictor.spec}, each chunk on its own",
        mapping=mapping,
        modality=modality.name,
        raw_bytes=modality.size,
        compressed_bytes=sum(len(c.data) for c in coded),
        chunks=len(chunks),
        parameters=parameter_count(predictor),
        ideal_bits=sum(c.ideal_bits for c in coded),
        seconds=time.perf_counter() - start,
    )
