"""scripts: the installed pyip, pytc and pybpftool scripts, and the cls_bpf filter lines
the privileged tests run through them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent  # the venv's console scripts


def run(*cmd: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """run: `cmd`, its output captured as text, whatever its exit status."""
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def filter_argv(
    netns: str,
    verb: str,
    obj: str,
    dev: str = "v0",
    pref: int | None = None,
    handle: int | None = None,
) -> list[str]:
    """filter_argv: `pytc -n NETNS filter VERB dev DEV ingress [pref P] [handle H] bpf da
    obj OBJ`."""
    argv = [str(BIN / "pytc"), "-n", netns, "filter", verb, "dev", dev, "ingress"]
    if pref is not None:
        argv += ["pref", str(pref)]
    if handle is not None:
        argv += ["handle", str(handle)]
    return [*argv, "bpf", "da", "obj", obj]
