"""Run `gencomp` in a fresh Python process and read its peak memory (a helper for tests)."""

from __future__ import annotations

import subprocess
import sys

# VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so the child would report the
# pytest process' own peak (the LLM tests load a 600 MB model)
_SCRIPT = (
    "import atexit, re, sys\n"
    "atexit.register(lambda: print('peak', re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1], file=sys.stderr))\n"
    "from gencomp_cli.main import main\n"
    "sys.argv[0] = 'gencomp'\n"
    "main()\n"
)


def gencomp_with_peak(*args: str, timeout: float = 300) -> tuple[subprocess.CompletedProcess, int]:
    """The finished command and its main process' peak resident memory in KiB."""
    done = subprocess.run([sys.executable, "-c", _SCRIPT, *args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done, int(done.stderr.split("peak ")[1].split()[0])
