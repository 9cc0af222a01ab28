"""The console scripts end with exit_process(): output flushed, status kept, no teardown.

No root needed: -V, usage errors and a help text are enough to see every path out.
"""

from __future__ import annotations

import subprocess

import pytest
from scripts import BIN


@pytest.mark.parametrize(
    ("argv", "status", "stream", "text"),
    [
        (["pyip", "-V"], 0, "stdout", "ip utility, pybpftool-"),
        (["pytc", "-V"], 0, "stdout", "tc utility, pybpftool-"),
        (["pyip", "-bogus"], 255, "stderr", 'Option "-bogus" is unknown'),
        (["pytc", "filter", "help"], 0, "stderr", "Usage: tc filter"),
        (["pybpftool", "object", "show"], 2, "stderr", "Missing argument"),
    ],
)
def test_status_and_output_survive_the_fast_exit(
    argv: list[str], status: int, stream: str, text: str
) -> None:
    out = subprocess.run([str(BIN / argv[0]), *argv[1:]], capture_output=True, text=True)
    assert out.returncode == status
    assert text in getattr(out, stream)


def test_a_reader_gone_before_the_last_flush_is_status_1_and_quiet() -> None:
    """stdout a pipe whose reader has gone: nothing on stderr, status 1 (C tools die of
    SIGPIPE instead; Python ignores that signal)."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)
    proc = subprocess.run(
        [str(BIN / "pyip"), "-V"], stdout=write_end, stderr=subprocess.PIPE, text=True
    )
    os.close(write_end)
    assert (proc.returncode, proc.stderr) == (1, "")


def test_the_scripts_call_console() -> None:
    """The installed scripts are pyproject.toml's script files, which call the fast-exit
    console() and import nothing else (pip's entry-point wrapper imports re)."""
    for tool in ("pyip", "pytc", "pybpftool"):
        text = (BIN / tool).read_text()
        imports = [line for line in text.splitlines() if "import " in line]
        assert imports == [f"from pybpftool.cli.{tool.removeprefix('py')}.main import console"]
