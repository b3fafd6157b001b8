"""The compression-rate table: the paper's data protocol, rates that equal a direct
computation, lossless classical encodings, and `gencomp evaluate` end to end."""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil

import numpy as np
import pytest
import soundfile
from PIL import Image
from typer.testing import CliRunner

from gencomp import coding, datasets
from gencomp import evaluate as ev
from gencomp.eval_data import DataSet, bundled_data, file_data, select
from gencomp.results_log import run_settings
from gencomp.modalities import bytes_to_audio, to_7bit
from gencomp.errors import GencompError
from gencomp.spec import load_predictor
from gencomp.workers import in_processes
from gencomp_cli.main import app
from peak_memory import gencomp_with_peak

FAST = "zstd:paper,context_window=16"


@pytest.fixture(scope="module")
def bundled() -> list[DataSet]:
    return [select(m, count=2, seed=1) for m in bundled_data(random_bytes=4 * 2048)]


def test_bundled_data_follows_the_paper(bundled):
    assert [m.name for m in bundled] == ["text", "image", "audio", "random"]
    for modality in bundled:
        assert len(modality.chunks) == 2 and all(len(c) == 2048 for c in modality.chunks)
    image = bundled[1].chunks[0]
    patches = [p.tobytes() for name in datasets.BUNDLED_IMAGES for p in ev.modalities.image_patches(ev.modalities.to_grayscale(datasets.bundled_image(name)))]
    assert image in patches  # a whole 32×64 grayscale patch, row-major


def test_select_limit_and_sample(bundled):
    text = bundled_data(random_bytes=2048)[0]
    assert list(select(text, limit=3).chunks) == [text.chunks[i] for i in range(3)]
    drawn = list(select(text, count=3, seed=5).chunks)
    assert drawn == list(select(text, count=3, seed=5).chunks) and len(drawn) == 3
    data = datasets.text_corpus().data
    assert all(chunk in data for chunk in drawn)


@pytest.mark.parametrize("codec", list(ev.CODECS))
def test_classical_rates_equal_a_direct_computation(bundled, codec):
    results = {r.row: r for r in ev.evaluate_classical(bundled[:1], [codec])}
    chunks = bundled[0].chunks
    compress = ev.CODECS[codec][1]
    header = len(compress(b"\0")) - 1
    assert results[codec].compressed_bytes == len(compress(b"".join(chunks)))
    assert results[f"{codec} (chunked)"].compressed_bytes == sum(len(compress(c)) for c in chunks) - header
    assert results[codec].rate == pytest.approx(100 * len(compress(b"".join(chunks))) / 4096)


def test_gzip_matches_the_gzip_module(bundled):
    text = bundled[0]
    (unchunked, _) = ev.classical_sizes("gzip", text.chunks)
    assert unchunked == len(gzip.compress(b"".join(text.chunks), compresslevel=9, mtime=0))
    assert ev.header_bytes("gzip") == 20  # 10-byte header, 8-byte trailer, 2 bytes of block around the byte


def test_png_and_flac_are_lossless_encodings_of_the_bytes(bundled):
    data = bundled[1].chunks[0]
    pixels = np.asarray(Image.open(io.BytesIO(ev.CODECS["png"][1](data))))
    assert pixels.shape == (32, 64) and pixels.tobytes() == data
    samples, rate = soundfile.read(io.BytesIO(ev.CODECS["flac"][1](data)), dtype="int16")
    assert rate == 16_000 and np.array_equal(samples, bytes_to_audio(data))


def test_predictor_rate_counts_codes_that_decode():
    """The chunks evaluate codes (through ``code_chunk``, its one coding path) decode back
    with a fresh predictor, and the row counts exactly those codes' bytes."""
    predictor = load_predictor(FAST)
    text = datasets.text_corpus().data
    modality = DataSet("text", "test", [text[:80], text[80:150]])
    result = ev.evaluate_predictor(predictor, modality, label="zstd")
    codes = [ev.code_chunk(predictor, chunk).data for chunk in modality.chunks]
    for code, chunk in zip(codes, modality.chunks):
        assert coding.decode_chunk(load_predictor(FAST), code, len(chunk)) == chunk
    assert result.row == "zstd" and result.raw_bytes == 150 and result.chunks == 2
    assert result.compressed_bytes == sum(map(len, codes))
    assert result.rate == pytest.approx(100 * result.compressed_bytes / 150)
    assert result.adjusted_rate == result.rate  # a compressor has no parameters
    assert ev.mappings(predictor, "image") == ["8-bit"]


def test_one_pool_codes_every_row_as_each_row_alone():
    """A predictor's rows go through one pool (a language model's workers take 8-17 s
    each to start): the pool is asked once for the whole plan, and each row's codes are
    those the row gets coded alone in this process. The rows are the first bytes of the
    bundled text and an image patch, in full bytes and the 7-bit mapping."""
    predictor = load_predictor(FAST)
    text = DataSet("text", "test", [datasets.text_corpus().data[i : i + 90] for i in (0, 90, 180)])
    image = DataSet("image", "test", [datasets.bundled_image("camera")[row, :96].tobytes() for row in (100, 200)])
    plan = [(text, "8-bit"), (image, "8-bit"), (image, "7-bit")]
    asked = []

    def counting(*arguments):
        asked.append(arguments[3])
        return in_processes(*arguments)

    rows = ev.evaluate_rows(predictor, plan, workers=2, pool=counting)
    assert asked == [2]
    alone = [ev.evaluate_predictor(predictor, modality, mapping) for modality, mapping in plan]
    assert [(r.modality, r.mapping, r.chunks, r.compressed_bytes) for r in rows] == [
        (r.modality, r.mapping, r.chunks, r.compressed_bytes) for r in alone
    ]
    assert [r.chunks for r in rows] == [3, 2, 2]


def test_seven_bit_mapping_codes_shifted_bytes_and_scales_by_8_over_7():
    predictor = load_predictor(FAST)
    chunk = datasets.bundled_image("camera")[200, :96].tobytes()
    result = ev.evaluate_predictor(predictor, DataSet("image", "test", [chunk]), mapping="7-bit")
    code = ev.code_chunk(predictor, to_7bit(chunk)).data
    assert coding.decode_chunk(load_predictor(FAST), code, len(chunk)) == to_7bit(chunk)
    assert result.compressed_bytes == len(code)
    assert result.rate == pytest.approx(100 * 8 / 7 * len(code) / len(chunk))


def test_rates_are_plausible():
    """Bounds from outside the code: the gzip predictor (fast preset) compresses prose
    well below 60% (gzip itself: about 48% on 2 KB chunks, the paper's Table 1), and
    nothing compresses random bytes (the first chunk of the bundled random set)."""
    gzip = load_predictor("gzip:fast")
    text, _, _, noise = bundled_data(random_bytes=2048)
    assert (text.name, noise.name) == ("text", "random")
    assert 20 < ev.evaluate_predictor(gzip, select(text, count=1, seed=3)).rate < 60
    assert ev.evaluate_predictor(gzip, noise).rate >= 99


def test_file_data_groups_images_audio_and_text(tmp_path):
    Image.fromarray(datasets.bundled_image("camera")[:64, :128]).save(tmp_path / "photo.png")
    shutil.copy(datasets.bundled_speech(), tmp_path / "speech.wav")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_bytes(b"hello " * 400)
    (tmp_path / "notes" / "b.bin").write_bytes(bytes([0xFF, 0xFE, 0x00]) * 10)
    groups = {m.name: m for m in file_data([tmp_path / "photo.png", tmp_path / "speech.wav", tmp_path / "notes"])}
    assert set(groups) == {"image", "audio", "text", "bytes"}
    assert len(groups["image"].chunks) == 4 and all(len(c) == 2048 for c in groups["image"].chunks)
    assert groups["audio"].size == 14259  # 0.9 s at 16 kHz, one byte a sample: counted from the header,
    speech = ev.modalities.audio_to_bytes(ev.modalities.read_audio(tmp_path / "speech.wav").samples)
    assert b"".join(groups["audio"].chunks) == speech  # then decoded when read
    photo = datasets.bundled_image("camera")[:64, :128]
    assert list(groups["image"].chunks) == [photo[r : r + 32, c : c + 64].tobytes() for r in (0, 32) for c in (0, 64)]
    assert [len(c) for c in groups["text"].chunks] == [2048, 352]
    with pytest.raises(GencompError, match="does not exist"):
        file_data([tmp_path / "missing.wav"])


def test_cli_evaluate_json_csv_and_table(tmp_path):
    (tmp_path / "a.txt").write_bytes(datasets.text_corpus().data[:200])
    runner = CliRunner()
    common = ["evaluate", "--data", str(tmp_path / "a.txt"), "--model", FAST, "--workers", "1"]
    result = runner.invoke(app, common + ["--json", "-"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    rows = {(r["row"], r["modality"]): r for r in document["results"]}
    assert rows[("gzip", "text")]["compressed_bytes"] == len(gzip.compress(datasets.text_corpus().data[:200], 9, mtime=0))
    assert rows[(f"{FAST} → coder", "text")]["raw_bytes"] == 200
    assert document["data"]["text"]["chunks"] == 1
    assert rows[(f"{FAST} → coder", "text")]["rate_low"] is None  # one chunk: no interval, not NaN
    assert "text: 1 of 1 chunk(s), 200 bytes" in result.stderr
    result = runner.invoke(app, common + ["--no-classical", "--csv", str(tmp_path / "r.csv")])
    assert result.exit_code == 0, result.stderr
    (row,) = [line for line in result.stdout.splitlines() if f"{FAST} → coder" in line]
    assert "Compression rate" in result.stdout and "±" not in row
    (line,) = list(csv.DictReader((tmp_path / "r.csv").read_text().splitlines()))
    assert line["modality"] == "text" and float(line["rate"]) > 0
    assert line["rate_low"] == line["rate_high"] == ""


def test_cli_intervals_in_the_table_json_and_csv(tmp_path):
    """Several chunks: every chunked row has an interval around its rate, in all three
    outputs alike; unchunked rows have none."""
    for i in range(3):
        (tmp_path / f"{i}.txt").write_bytes(datasets.text_corpus().data[300 * i : 300 * i + 90 + 20 * i])
    common = ["evaluate", "--data", str(tmp_path), "--model", FAST, "--workers", "1", "--limit", "3"]
    runner = CliRunner()
    table = runner.invoke(app, common + ["--json", str(tmp_path / "r.json"), "--csv", str(tmp_path / "r.csv")])
    assert table.exit_code == 0, table.stderr
    document = json.loads((tmp_path / "r.json").read_text())
    lines = {r["row"]: r for r in csv.DictReader((tmp_path / "r.csv").read_text().splitlines())}
    for row in document["results"]:
        line = lines[row["row"]]
        if row["row"] in ev.CODECS:  # unchunked: one compression of everything
            assert row["rate_low"] is None and line["rate_low"] == ""
            continue
        assert row["rate_low"] <= row["rate"] <= row["rate_high"]
        assert float(line["rate_low"]) == pytest.approx(row["rate_low"]) and float(line["rate_high"]) == pytest.approx(row["rate_high"])
        assert f"{row['rate']:.1f} ±{row['rate_high'] - row['rate']:.1f}" in table.stdout


def test_rate_margin_is_students_t_for_chunks_of_equal_size():
    """With equal sizes the ratio estimator's interval is the textbook t interval of the
    per-chunk rates' mean (scipy's, computed independently); with unequal sizes it still
    brackets the pooled rate; one chunk has none."""
    from scipy import stats

    compressed = [900, 1010, 870, 1200, 955]
    rates = np.array(compressed) / 2048
    low, high = stats.t.interval(0.95, len(rates) - 1, loc=rates.mean(), scale=stats.sem(rates))
    assert ev.rate_margin([2048] * 5, compressed) == pytest.approx((high - low) / 2)
    assert ev.rate_margin([2048], [900]) is None
    assert ev.rate_margin([2048, 2048], [900, 900]) == 0.0


def test_rate_margin_agrees_with_a_bootstrap_of_the_pooled_rate():
    """Many chunks of unequal sizes: the t half-width is close to a percentile bootstrap's
    of Σcompressed/Σraw (an independent method; they agree as n grows)."""
    rng = np.random.default_rng(7)
    raw = rng.integers(500, 2049, 400)
    compressed = raw * rng.uniform(0.3, 0.6, 400)
    resampled = rng.integers(0, 400, (4000, 400))
    pooled = compressed[resampled].sum(axis=1) / raw[resampled].sum(axis=1)
    bootstrap = (np.percentile(pooled, 97.5) - np.percentile(pooled, 2.5)) / 2
    assert ev.rate_margin(raw, compressed) == pytest.approx(bootstrap, rel=0.1)


def test_chunked_intervals_contain_the_rate_and_shrink_with_more_chunks():
    text = bundled_data(random_bytes=2048)[0]
    widths = []
    for count in (4, 64):
        unchunked, chunked = ev.evaluate_classical([select(text, count=count, seed=1)], ["gzip"])
        assert unchunked.rate_low is None  # no per-chunk breakdown
        assert chunked.rate_low < chunked.rate < chunked.rate_high
        widths.append(chunked.rate_high - chunked.rate_low)
    assert widths[1] < widths[0] / 2  # se about 1/sqrt(n), and t shrinks too


def test_user_files_are_read_a_chunk_at_a_time(tmp_path):
    """Building, selecting, fingerprinting and compressing chunks of a 64 MB file allocates
    a few megabytes, not the file; the chunks read are the file's bytes at their offsets."""
    import tracemalloc

    big = tmp_path / "big.txt"
    with open(big, "wb") as file:
        file.truncate(64 << 20)  # sparse zeros: valid UTF-8, so "text"
        file.seek(3 * 2048 + 5)
        file.write(b"marker")
    tracemalloc.start()
    try:
        (modality,) = file_data([big])
        picked = select(modality, count=4, seed=3)
        run_settings([], [picked], None, 4, 3)
        ev.evaluate_classical([picked], ["gzip"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert modality.name == "text" and len(modality.chunks) == 32768 and modality.size == 64 << 20
    assert peak < 8 << 20
    assert modality.chunks[3] == bytes(5) + b"marker" + bytes(2048 - 11)
    assert list(picked.chunks) == [modality.chunks.read(n) for n in picked.chunks.numbers]


def test_a_100_mb_file_evaluates_in_under_1_gb(tmp_path):
    """The issue's bound, end to end: `gencomp evaluate --data` on 100 MB with --sample."""
    big = tmp_path / "big.bin"
    with open(big, "wb") as file:
        file.truncate(100 << 20)
    args = ["evaluate", "--data", str(big), "-m", FAST, "--sample", "1", "--workers", "1", "--results", str(tmp_path / "r.jsonl")]
    done, peak_kb = gencomp_with_peak(*args)
    assert "text: 1 of 51200 chunk(s)" in done.stderr
    assert peak_kb < 1 << 20


def test_cli_evaluate_rejects_bad_options():
    result = CliRunner().invoke(app, ["evaluate", "--limit", "0"])
    assert result.exit_code == 1 and "--limit must be at least 1" in result.stderr and result.stdout == ""


def test_llm_gets_both_mappings_and_an_adjusted_rate(llm_predictor):
    assert ev.mappings(llm_predictor, "image") == ["8-bit", "7-bit"]
    assert ev.mappings(llm_predictor, "text") == ["8-bit"]
    parameters = ev.parameter_count(llm_predictor)
    assert parameters > 100_000_000  # SmolLM2-135M
    chunk = datasets.text_corpus().data[:40]
    result = ev.evaluate_predictor(llm_predictor, DataSet("text", "test", [chunk]))
    assert result.adjusted_rate == pytest.approx(100 * (result.compressed_bytes + 2 * parameters) / 40)
