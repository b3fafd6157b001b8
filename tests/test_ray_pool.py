"""Chunk jobs on a real local Ray (2 CPUs, no dashboard), started once for the module: the
same codes and tables as the local pool, a killed actor's chunks retried and counted once,
a worker whose predictor differs refused, and addresses that are not a Ray cluster refused
within seconds. Data are small slices of the bundled text corpus and files the tests
write from it; the predictor is the fast ``zstd:paper``."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import ray
from typer.testing import CliRunner

from gencomp import coding, container, datasets
from gencomp import evaluate as ev
from gencomp.eval_data import file_data
from gencomp.results_log import ResultsLog
from gencomp import ray_pool
from gencomp.errors import GencompError
from gencomp.predictor import Predictor
from gencomp.spec import load_predictor
from gencomp_cli.main import app

SPEC = "zstd:paper"
CHUNK = 64  # bytes: many chunks from little data, so two actors share the work


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    """A local Ray for this module; its GCS address, for runs from another process."""
    context = ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    yield context.address_info["gcs_address"]
    ray.shutdown()


@pytest.fixture
def pool(address) -> Iterator[ray_pool.RayPool]:
    """Its actors end with each test: left running they would hold the 2 CPUs."""
    with ray_pool.cluster("local") as connected:  # the module's Ray is kept, not a new one
        yield connected


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return load_predictor(SPEC)


@pytest.fixture(scope="module")
def text() -> bytes:
    return datasets.text_corpus().data[5_000:5_000 + 10 * CHUNK + 17]


def test_codes_are_the_local_ones_and_decode_on_the_cluster(pool, predictor, text):
    local = coding.encode(predictor, text, CHUNK)
    assert coding.encode(predictor, text, CHUNK, workers=2, pool=pool) == local
    lengths = coding.chunk_lengths(len(text), CHUNK)
    assert coding.decode(predictor, [c.data for c in local], lengths, workers=2, pool=pool) == text


def test_a_killed_actor_has_its_chunks_retried_and_counted_once(pool, predictor, text, tmp_path):
    """Ray kills one of the two actors after the first chunk; the row has every chunk once,
    with the sizes the local coder gives, and so has the results file."""
    (tmp_path / "notes.txt").write_bytes(text)
    modality = file_data([tmp_path])[0]
    local = ev.evaluate_predictor(predictor, modality)
    yielded: list[int] = []

    def killing(predictor: Predictor, task: Any, arguments: Any, workers: int) -> Iterator[tuple[int, Any]]:
        for i, result in pool(predictor, task, arguments, workers):
            if not yielded:
                ray.kill(pool.actors(predictor, workers)[0], no_restart=False)
            yielded.append(i)
            yield i, result

    log = ResultsLog(tmp_path / "results.jsonl")
    row = ev.evaluate_predictor(predictor, modality, workers=2, log=log, pool=killing)
    assert sorted(yielded) == list(range(len(modality.chunks)))
    assert (row.chunks, row.raw_bytes, row.compressed_bytes) == (local.chunks, local.raw_bytes, local.compressed_bytes)
    lines = [json.loads(line) for line in log.path.read_text().splitlines()]
    assert sorted(line["chunk"] for line in lines) == sorted(modality.chunks.numbers.tolist())


class _BuiltElsewhere:
    """The driver's predictor with another fingerprint, as a driver with another zstd
    would have: the actors build the real one from the spec and must refuse it."""

    def __init__(self, predictor: Predictor) -> None:
        self.spec, self.context_window = predictor.spec, predictor.context_window
        self.fingerprint = predictor.fingerprint + " (another build)"


def test_a_worker_whose_predictor_differs_is_refused_by_name(pool, predictor):
    with pytest.raises(GencompError, match="install the same") as refused:
        list(pool(_BuiltElsewhere(predictor), coding.encode_chunk, [(b"abc",)], 1))
    assert predictor.fingerprint in str(refused.value) and "another build" in str(refused.value)


def test_evaluate_on_ray_gives_the_local_table_and_resumes(address, text, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for i in range(4):
        (data / f"{i}.txt").write_bytes(text[100 * i : 100 * i + 90 + 5 * i])
    common = ["evaluate", "--data", str(data), "-m", SPEC, "--no-classical", "--limit", "4"]

    def rows(*args: str) -> list[dict]:
        document = tmp_path / f"{len(list(tmp_path.iterdir()))}.json"
        done = CliRunner().invoke(app, [*common, *args, "--json", str(document)])
        assert done.exit_code == 0, done.stderr
        return [{k: v for k, v in row.items() if k != "seconds"} for row in json.loads(document.read_text())["results"]]

    local = rows("--workers", "1")
    results = tmp_path / "run.jsonl"
    assert rows("--ray", "local", "--workers", "2", "--results", str(results)) == local
    header, first, *_ = results.read_text().splitlines(keepends=True)
    results.write_text(header + first)  # as if interrupted after one chunk
    assert rows("--ray", "local", "--resume", str(results)) == local
    assert len(results.read_text().splitlines()) == 1 + 4


def gencomp(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).with_name("gencomp")), *args], capture_output=True, timeout=timeout)


def test_compress_and_decompress_by_address_from_another_process(address, predictor, text, tmp_path):
    """The CLI in its own process joins the module's cluster by its address."""
    original, coded, back = tmp_path / "in.txt", tmp_path / "in.gcz", tmp_path / "back.txt"
    original.write_bytes(text)
    done = gencomp("compress", "-m", SPEC, "--chunk-size", str(CHUNK), "--ray", address, str(original), str(coded))
    assert done.returncode == 0, done.stderr.decode()
    assert coded.read_bytes() == container.compress(predictor, text, CHUNK).data
    done = gencomp("decompress", "--ray", address, str(coded), str(back))
    assert done.returncode == 0, done.stderr.decode()
    assert back.read_bytes() == text


@pytest.fixture
def silent() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield f"127.0.0.1:{server.getsockname()[1]}"


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_an_address_that_is_no_cluster_is_one_line_within_30_seconds(kind, silent, tmp_path):
    original = tmp_path / "in.txt"
    original.write_bytes(b"some bytes")
    address = silent if kind == "silent" else "127.0.0.1:1"
    start = time.perf_counter()
    done = gencomp("compress", "--ray", address, str(original), str(tmp_path / "out.gcz"), timeout=40)
    assert time.perf_counter() - start < 30
    assert done.returncode == 1 and not (tmp_path / "out.gcz").exists()
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and address in lines[0]


def test_without_ray_installed_the_error_names_the_extra():
    """A real interpreter in which `import ray` fails (None in sys.modules makes it so)."""
    code = "import sys; sys.modules['ray'] = None\nfrom gencomp import ray_pool\nwith ray_pool.cluster('local'): pass"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert done.returncode != 0 and b"pip install 'gencomp[ray]'" in done.stderr.splitlines()[-1]
