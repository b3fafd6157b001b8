"""The data `gencomp evaluate` measures: each modality as chunks of 2048 bytes.

The bundled data (text, image patches, speech, random bytes) or the user's files grouped by
kind (images as grayscale 32×64 patches, audio as 16 kHz 8-bit, anything else as bytes).
A chunk is read only when it is coded (:class:`Chunks`), so memory follows the workers,
not the data; :func:`select` picks the chunks a run measures.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Sequence, overload

import numpy as np

from gencomp import coding, datasets, modalities
from gencomp.errors import GencompError

CHUNK_SIZE = coding.CHUNK_SIZE
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".aiff", ".aif", ".au"}


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
class DataSet:
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


def bundled_data(random_bytes: int = 64 * CHUNK_SIZE, seed: int = 0) -> list[DataSet]:
    """Text, image, audio and random chunks from the bundled real data (the README says which)."""
    text = datasets.text_corpus()
    patches = [
        patch.tobytes()
        for name in datasets.BUNDLED_IMAGES
        for patch in modalities.image_patches(modalities.to_grayscale(datasets.bundled_image(name)))
    ]
    recordings = (datasets.bundled_speech(), datasets.bundled_long_speech())
    speech = b"".join(modalities.audio_to_bytes(modalities.read_audio(path).samples) for path in recordings)
    noise = np.random.default_rng(seed).integers(0, 256, random_bytes, dtype=np.uint8).tobytes()
    return [
        DataSet("text", text.source, _in_memory(text.data)),
        DataSet("image", f"grayscale 32×64 patches of scikit-image's {', '.join(datasets.BUNDLED_IMAGES)}", Chunks.of(patches)),
        DataSet("audio", f"{datasets.SPEECH_FILE} then {datasets.LONG_SPEECH_FILE} (speech, 16 kHz, 8-bit)", _in_memory(speech)),
        DataSet("random", f"uniform random bytes (numpy, seed {seed})", _in_memory(noise)),
    ]


def file_data(paths: Iterable[Path]) -> list[DataSet]:
    """The user's files (folders: every file inside, sorted), grouped by kind: images
    become grayscale 32×64 patches, audio 16 kHz 8-bit, anything else stays bytes (the
    last chunk of a file may be short). Only headers are read here: a byte file is read a
    chunk at a time later, an image or audio file decoded when its chunks are first read."""
    groups: dict[str, list[tuple[str, Chunks]]] = {}
    for path in _expand(paths):
        kind, chunks = _file_chunks(path)
        groups.setdefault(kind, []).append((path.name, chunks))
    if not groups:
        raise GencompError("no files to evaluate in the paths given")
    return [DataSet(kind, ", ".join(name for name, _ in files), _joined([c for _, c in files])) for kind, files in groups.items()]


def select(data: DataSet, limit: int | None = None, count: int | None = None, seed: int = 0) -> DataSet:
    """The first ``limit`` chunks, or ``count`` chunks drawn at random (in file order)."""
    available = len(data.chunks)
    positions = np.arange(available)
    if count is not None and count < available:
        positions = np.sort(np.random.default_rng(seed).choice(available, size=count, replace=False))
    if limit is not None:
        positions = positions[:limit]
    return DataSet(data.name, data.source, data.chunks.pick(positions))


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
    return list(coding.chunks(modalities.audio_to_bytes(modalities.read_audio(path).samples)))
