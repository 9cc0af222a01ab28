"""The man pages render without a groff warning, read cleanly, and show what the tools print.

Rendering uses groff's own checks (`-ww`: every warning) as errors; the text checks catch
what groff accepts but a reader trips over (a stray `."`, a doubled full stop). The
unprivileged examples of pybpftool(8) (those shown after `$`) are run and their output
compared with what the page shows; tests/privileged/test_man_examples.py runs the root ones.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import bpfobjs
import pytest
from manpages import ROOT, examples, render

PAGES = sorted((ROOT / "man").glob("*.8"))
NAMES = [page.stem for page in PAGES]


@pytest.mark.parametrize("page", PAGES, ids=NAMES)
def test_groff_renders_without_a_warning(page: Path) -> None:
    done = subprocess.run(
        ["groff", "-man", "-Tutf8", "-ww", "-z", str(page)], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stderr == ""


@pytest.mark.parametrize("page", PAGES, ids=NAMES)
def test_the_text_has_no_stray_punctuation(page: Path) -> None:
    text = render(page)
    assert '."' not in text  # an unquoted `."` closing a .RB/.BR argument list
    doubled = re.findall(r"\S*(?<!\.)\.\.(?![./])\S*", text)  # `..` but not `...` or `../`
    assert doubled == []
    assert not [line for line in page.read_text().splitlines() if line.startswith('."')]


@pytest.mark.parametrize("page", PAGES, ids=NAMES)
def test_every_page_has_examples_before_see_also(page: Path) -> None:
    headings = re.findall(r"^\.SH (.+)$", page.read_text(), re.MULTILINE)
    assert "EXAMPLES" in headings
    assert headings.index("EXAMPLES") == len(headings) - 2 and headings[-1] == "SEE ALSO"
    assert examples(page), "an EXAMPLES section without a command"


@pytest.mark.parametrize("page", PAGES, ids=NAMES)
def test_the_version_is_the_package_version(page: Path) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert f'"pybpftool {version}"' in page.read_text().splitlines()[0]


def test_pybpftool_examples_show_what_the_commands_print(tmp_path: Path) -> None:
    """Each `$ pybpftool ...` example runs in a folder holding the example objects; the
    lines the page shows are the first lines of the real output (for the jq example, the
    sections its filter selects)."""
    for name in ("tc_tail_calls", "core_task"):
        obj = bpfobjs.build(f"../../examples/{name}")
        (tmp_path / f"{name}.o").write_bytes(obj.read_bytes())
    bindir = Path(sys.executable).parent
    checked = 0
    for command, shown in examples(ROOT / "man" / "pybpftool.8"):
        if not command.startswith("$ pybpftool"):
            continue
        words = shlex.split(command[2:].split("|")[0])
        done = subprocess.run(
            [str(bindir / words[0]), *words[1:]], capture_output=True, text=True, cwd=tmp_path
        )
        if "|" in command:  # ... --json FILE | jq -r '.programs[].section'
            assert ".programs[].section" in command
            doc = json.loads(done.stdout)
            assert [p["section"] for p in doc["programs"]] == shown
        else:
            assert done.stdout.splitlines()[: len(shown)] == shown, command
        checked += 1
    assert checked == 3
