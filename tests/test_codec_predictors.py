"""The png, flac and ppmd predictors: the contract, round trips through the coder, and
their code lengths against the real codecs (Pillow's PNG, libsndfile's FLAC, pyppmd) on
the bundled photographs, speech and prose."""

from __future__ import annotations

import io

import numpy as np
import pyppmd
import pytest
import soundfile

import gencomp
from gencomp import coding, datasets, modalities
from gencomp.evaluate import _flac, _png
from gencomp.compressors.flac import rice_bits, zigzag
from gencomp.compressors.png import FILTERS, PngPredictor
from gencomp.errors import SpecError
from gencomp.predictor import check_logprobs


@pytest.fixture(scope="module")
def patch() -> bytes:
    """A 32×64 patch of scikit-image's coffee photograph (the defaults were chosen on
    other patches of it)."""
    gray = modalities.to_grayscale(datasets.bundled_image("coffee"))
    return modalities.crop_patch(gray, top=200, left=300).tobytes()


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """The bundled speech recording as 16 kHz int16 samples."""
    return modalities.read_audio(datasets.bundled_speech()).samples


def own_bits(compress, data: bytes) -> int:
    """A codec's size of ``data`` in bits, its fixed cost (of one byte) taken off once."""
    return 8 * (len(compress(data)) - (len(compress(b"\0")) - 1))


@pytest.mark.parametrize("spec", ["png", "png:filter=paeth,paper", "flac", "flac:bits=16", "ppmd"])
def test_contract_on_real_data(spec, patch, speech, prose):
    """Finite, normalised, and the same from a second instance, at positions that cross
    rows, samples and the first bytes."""
    data = {"png": patch, "flac": modalities.audio_to_bytes(speech[3000:3300], bits=16 if "16" in spec else 8)}
    data = data.get(spec.split(":")[0], prose)
    first, second = gencomp.load_predictor(spec), gencomp.load_predictor(spec)
    for end in (0, 1, 63, 64, 65, 129, 300):
        logprobs = first.logprobs(data[:end])
        check_logprobs(logprobs)
        assert np.array_equal(logprobs, second.logprobs(data[:end]))


def test_flac_beats_libsndfile_and_round_trips(speech):
    """8-bit speech, two 2048-byte chunks: the code is no longer than libsndfile's FLAC
    (its header counted once; measured 0.96×) and decodes to the chunk."""
    data = modalities.audio_to_bytes(speech)
    chunks = [data[4096:6144], data[8192:10240]]
    flac = gencomp.load_predictor("flac")
    codes = [coding.encode_chunk(flac, chunk) for chunk in chunks]
    header = len(_flac(b"\0")) - 1
    codec = sum(8 * (len(_flac(chunk)) - header) for chunk in chunks)
    ours = sum(8 * len(code.data) for code in codes)
    assert ours <= 1.0 * codec, (ours, codec)
    assert coding.decode_chunk(flac, codes[0].data, len(chunks[0])) == chunks[0]


def test_flac_16_bit_against_libsndfile(speech):
    """16-bit speech (1,024 samples): within 3% of libsndfile's 16-bit FLAC, and a round trip."""

    def flac16(data: bytes) -> bytes:
        buffer = io.BytesIO()
        soundfile.write(buffer, modalities.bytes_to_audio(data, 16), modalities.SAMPLE_RATE, format="FLAC", subtype="PCM_16")
        return buffer.getvalue()

    chunk = modalities.audio_to_bytes(speech[5000:6024], bits=16)
    flac = gencomp.load_predictor("flac:bits=16")
    code = coding.encode_chunk(flac, chunk)
    assert 8 * len(code.data) <= 1.03 * own_bits(flac16, chunk), (8 * len(code.data), own_bits(flac16, chunk))
    assert coding.decode_chunk(flac, code.data, len(chunk)) == chunk


@pytest.mark.parametrize("bits", [8, 16])
def test_flac_keeps_the_contract_where_its_prediction_overshoots(bits):
    """Fixture built here: a steep ramp that clips at full scale, so that the polynomial and
    LPC predictors predict beyond the sample range; then a round trip of it."""
    top = (1 << (bits - 1)) - 1
    ramp = np.clip(np.arange(-top, 3 * top, top // 6 + 1), -top - 1, top)
    data = modalities.audio_to_bytes(ramp << (16 - bits), bits=bits)
    flac = gencomp.load_predictor(f"flac:bits={bits}")
    for end in range(len(data)):
        check_logprobs(flac.logprobs(data[:end]))
    assert coding.decode_chunk(flac, coding.encode_chunk(flac, data).data, len(data)) == data


def test_rice_lengths_from_first_principles():
    """u = zigzag(e) costs (u >> k) + 1 + k bits: a unary quotient, a stop bit, k low bits."""
    assert zigzag(np.array([0, -1, 1, -2, 2])).tolist() == [0, 1, 2, 3, 4]
    assert rice_bits(np.array([0, 5, 17]), np.array([0, 2])).tolist() == [[1, 3], [6, 4], [18, 7]]


def test_png_close_to_pillow_and_round_trips(patch):
    """A patch of the photograph the defaults were chosen on (another part of it): the
    code is no longer than Pillow's PNG (header counted once; measured 0.90×); the first
    rows decode back."""
    png = gencomp.load_predictor("png")
    code = coding.encode_chunk(png, patch)
    assert 8 * len(code.data) <= 1.0 * own_bits(_png, patch), (8 * len(code.data), own_bits(_png, patch))
    head = coding.encode_chunk(png, patch[:256])
    assert coding.decode_chunk(png, head.data, 256) == patch[:256]


@pytest.mark.parametrize("name", FILTERS)
def test_png_filters_invert(name, patch):
    """Each filter's stream maps back to the pixels: filtered byte + prediction = pixel,
    and every row starts with its filter type (PNG's layout)."""
    png = PngPredictor(filter=name, paper=True)
    stream, prediction = png.filtered(patch[:200])
    assert len(stream) == 200 + 200 // 64 + 1
    assert all(stream[row * 65] == FILTERS.index(name) for row in range(4))
    assert png.filtered(patch[:201])[0][-1] == (patch[200] - prediction) % 256


def test_ppmd_near_pyppmd_and_round_trips(prose):
    """200 bytes of prose: a code within 1.35× pyppmd's own (its lengths are whole bytes,
    so the predictor is coarser than the codec; see the README), and a round trip of the
    first 64 (each step compresses every candidate whole: slow)."""
    text = prose[:200]
    ppmd = gencomp.load_predictor("ppmd")
    code = coding.encode_chunk(ppmd, text)
    own = 8 * (len(pyppmd.compress(text, max_order=6, variant="I")) - len(pyppmd.compress(b"", max_order=6, variant="I")))
    assert 8 * len(code.data) <= 1.35 * own, (8 * len(code.data), own)
    head = coding.encode_chunk(ppmd, text[:64])
    assert coding.decode_chunk(ppmd, head.data, 64) == text[:64]


@pytest.mark.parametrize(
    "spec, words",
    [
        ("png:width=0", "width must be 1..context_window"),
        ("png:width=4096", "width must be 1..context_window (2048)"),
        ("png:filter=best", "png filter must be adaptive or one of"),
        ("png:smooth=1", "smooth must be in [0, 1)"),
        ("flac:bits=24", "flac bits must be 8"),
        ("flac:order=40", "order"),
        ("ppmd:level=1", "ppmd level must be 2..64"),
    ],
)
def test_bad_specs_say_what_works(spec, words):
    with pytest.raises(SpecError, match=None) as error:
        gencomp.load_predictor(spec)
    assert words in str(error.value)


def test_png_window_holds_whole_rows():
    """Cropping to a window of whole rows keeps every row's start where it was."""
    assert gencomp.load_predictor("png:width=100").context_window == 2000
    assert gencomp.load_predictor("flac:bits=16,context_window=2047").context_window == 2046
