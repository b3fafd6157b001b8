"""An evaluation's rows as the documents it is written as: JSON, CSV and the settings its
page shows (the page itself is :func:`gencomp.report.evaluate_page`)."""

from __future__ import annotations

import csv
import io
import json

from gencomp.eval_data import CHUNK_SIZE, DataSet
from gencomp.evaluate import PAPER, Result

INTERVAL = "95% over chunks: Student t on the ratio estimator Σcompressed/Σraw (none with one chunk)"
CSV_FIELDS = ["row", "mapping", "modality", "raw_bytes", "compressed_bytes", "chunks", "parameters", "ideal_bits", "rate",
              "rate_low", "rate_high", "adjusted_rate", "seconds", "method"]


def data_summary(data: list[DataSet]) -> dict[str, dict]:
    """Modality -> where its chunks came from, how many and their bytes."""
    return {m.name: {"source": m.source, "chunks": len(m.chunks), "bytes": m.size} for m in data}


def json_document(rows: list[Result], data: list[DataSet]) -> str:
    """Every row with the data and the paper's figures, as indented JSON."""
    document = {"chunk_size": CHUNK_SIZE, "data": data_summary(data), "interval": INTERVAL, "results": [r.as_dict() for r in rows], "paper": PAPER}
    return json.dumps(document, indent=2) + "\n"


def csv_text(rows: list[Result]) -> str:
    """One line per row and modality."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(r.as_dict() for r in rows)
    return buffer.getvalue()


def page_settings(models: list[str], coded: list[str], classical: str, limit: int | None, count: int | None, seed: int, workers: int | None) -> dict[str, str]:
    """The run's settings as the page shows them; ``coded``: the modalities the models coded;
    ``classical``: on what the classical compressors ran."""
    chosen = " ".join(filter(None, (f"{count} at random (seed {seed})" if count else "", f"the first {limit}" if limit else "")))
    return {"models": ", ".join(models), "coded by the models": ", ".join(coded), "classical compressors": classical, "chunks per modality": chosen,
            "chunk size": f"{CHUNK_SIZE} bytes", "workers": str(workers), "interval": INTERVAL}
