"""An earlier gencomp beside this tree's, for targets stated as "N× today's" (issue 11):
two versions of the code measured side by side in one process.

    mkdir -p /tmp/baseline && git archive 662783b gencomp | tar -x -C /tmp/baseline
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType


def earlier_gencomp(folder: Path, specs: list[str]) -> tuple[list, ModuleType]:
    """Predictors built by the gencomp in ``folder``, and its ``coding`` module; then that
    gencomp is forgotten, so that the next import finds this tree's. They are built here,
    since the registry imports a family's modules when a predictor is built."""
    sys.path.insert(0, str(folder))
    try:
        old = importlib.import_module("gencomp")
        if not Path(old.__file__).resolve().is_relative_to(folder.resolve()):
            raise SystemExit(f"no gencomp package in {folder} (import it before this tree's gencomp)")
        return [old.load_predictor(spec) for spec in specs], importlib.import_module("gencomp.coding")
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name == "gencomp" or name.startswith("gencomp.")]:
            del sys.modules[name]
