"""The console scripts end with exit_process(): output flushed, status kept, no teardown.

No root needed: -V, usage errors and a help text are enough to see every path out.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

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
    entries = {"pyip": "ip.main", "pytc": "tc.main", "pybpftool": "bpftool.console"}
    for tool, module in entries.items():
        text = (BIN / tool).read_text()
        imports = [line for line in text.splitlines() if "import " in line]
        assert imports == [f"from pybpftool.cli.{module} import console"]


def test_pybpftool_imports_click_under_the_raised_threshold() -> None:
    """click (with typing, inspect, datetime) is most of a cold pybpftool's imports: the
    script imports it only once console() has raised the collector's young threshold."""
    import sys

    from pybpftool.cli.common.boundary import YOUNG_THRESHOLD

    probe = (
        "import gc, sys\n"
        "class Spy:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name in ('click', 'typing'):\n"
        "            print(name, gc.get_threshold()[0], file=sys.stderr)\n"
        "sys.meta_path.insert(0, Spy())\n"
        "sys.argv = ['pybpftool', '--version']\n"
        f"script = {str(BIN / 'pybpftool')!r}\n"  # runpy would import typing itself
        "exec(compile(open(script).read(), script, 'exec'), {'__name__': '__main__'})\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0 and "pybpftool, version" in out.stdout, out.stderr
    seen = dict(line.split() for line in out.stderr.splitlines())
    assert seen == {"typing": str(YOUNG_THRESHOLD), "click": str(YOUNG_THRESHOLD)}


def test_a_console_script_defers_young_collections_and_main_does_not() -> None:
    """The console entry raises the collector's young threshold for its own process (a cold
    command's imports are not garbage); main() in-process leaves the caller's collector as
    it was, as library code must."""
    import sys

    from pybpftool.cli.common.boundary import YOUNG_THRESHOLD

    probe = (
        "import gc, sys\n"
        "from pybpftool.cli.common import boundary\n"
        "from pybpftool.cli.ip.main import main\n"
        "before = gc.get_threshold()\n"
        "main(['-V'])\n"
        "assert gc.get_threshold() == before, (before, gc.get_threshold())\n"
        "boundary.console('ip', lambda: print(*gc.get_threshold()) or 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    young, older, oldest = map(int, out.stdout.split()[-3:])
    assert (young, older, oldest) == (YOUNG_THRESHOLD, 10, 10)


def test_a_console_batch_collects_as_usual_after_its_first_line(tmp_path: Path) -> None:
    """A console -batch goes back to Python's young threshold once its first line has run:
    what its lines leave in reference cycles is collected as usual, and what the process
    held by then (its modules and classes) is frozen out of those collections."""
    import sys

    from pybpftool.cli.common.boundary import USUAL_YOUNG_THRESHOLD, YOUNG_THRESHOLD

    batch = tmp_path / "lines"
    batch.write_text("help\nhelp\n")
    probe = (
        "import gc\n"
        "from pybpftool.cli.common import frontend\n"
        "from pybpftool.cli.common.boundary import console\n"
        "seen = []\n"
        "real = frontend._dispatch\n"
        "def spy(*args):\n"
        "    seen.append((gc.get_threshold()[0], gc.get_freeze_count() > 1000))\n"
        "    return real(*args)\n"
        "frontend._dispatch = spy\n"
        "from pybpftool.cli.tc.main import main\n"
        f"main(['-batch', {str(batch)!r}])\n"  # in-process: the collector left as it was
        "assert gc.get_freeze_count() == 0 and gc.get_threshold()[0] == 700, seen\n"
        "seen.clear()\n"
        "def run():\n"
        f"    status = main(['-batch', {str(batch)!r}], console=True)\n"
        "    print(seen)\n"
        "    return status\n"
        "console('tc', run)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str([(YOUNG_THRESHOLD, False), (USUAL_YOUNG_THRESHOLD, True)])
