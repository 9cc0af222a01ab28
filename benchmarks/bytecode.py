"""bytecode: run benchmarked commands as an installed package runs, with bytecode on disk.

This environment sets PYTHONDONTWRITEBYTECODE and the editable checkout has no __pycache__,
so without this every command would recompile each of our modules it imports. The standard
library and the venv's packages already have their bytecode (pyenv and pip write it at install
time); a private PYTHONPYCACHEPREFIX would hide that, and a confined command can no longer
write it, so the bytecode goes where an installed package has it: next to the sources.
`installed_bytecode` compiles pybpftool there and removes what it wrote afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pybpftool"


@contextmanager
def installed_bytecode() -> Iterator[None]:
    """installed_bytecode: pybpftool compiled in place, bytecode writes allowed, for the
    duration; the __pycache__ folders this made are removed at the end."""
    before = {p for p in PACKAGE.rglob("__pycache__")}
    saved = {k: os.environ.get(k) for k in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    for key in saved:
        os.environ.pop(key, None)
    try:
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(PACKAGE)],
            check=True,
            capture_output=True,
        )
        yield
    finally:
        for key, value in saved.items():
            if value is not None:
                os.environ[key] = value
        for folder in set(PACKAGE.rglob("__pycache__")) - before:
            shutil.rmtree(folder, ignore_errors=True)
