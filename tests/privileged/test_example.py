"""examples/python_api.py, run as a user would run it: it loads the legacy object with its
pinned counter, attaches it in a throwaway namespace, counts datagrams sent through the
veth, detaches, and leaves no namespace, mount or pin behind. The README's "Python API"
example runs as printed too, with only its names swapped for the test's: the namespace
"blue" for a throwaway one, /run/mybpf for a private bpffs, tc_legacy_pinned.o for the
object examples/Makefile builds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import bpfobjs

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "python_api.py"


def build_example_object(tmp_path: Path) -> Path:
    """build_example_object: examples/tc_legacy_pinned.c as examples/Makefile builds it, into
    the test's folder (the work tree stays clean)."""
    out = tmp_path / "tc_legacy_pinned.o"
    cmd = [bpfobjs.CLANG, "-O2", "-g", "-Wall", "-Werror", "-target", "bpf"]
    cmd += [f"-I{ROOT / 'tests/bpf/include'}", "-c", str(ROOT / "examples/tc_legacy_pinned.c")]
    subprocess.run([*cmd, "-o", str(out)], check=True, capture_output=True)
    return out


def test_the_python_api_example_runs_and_cleans_up(tmp_path: Path) -> None:
    obj = build_example_object(tmp_path)
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), str(obj)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"loaded cls_bytes \(sched_cls, id \d+, tag [0-9a-f]{16}\)", lines[0])
    assert lines[1] == "map tc_bytes (array) pinned at $pin_root/tc/globals/tc_bytes"
    attached = re.fullmatch(
        r"attached to v0 ingress in (pybpftool-example-\d+)-near: pref \d+ handle \d+", lines[2]
    )
    assert attached, lines[2]
    assert lines[3] == "attaching it twice is refused: Filter already exists"
    counted = re.fullmatch(r"sent 5 datagrams of 142 bytes; counted at v0 ingress: (\d+)", lines[4])
    assert counted and int(counted[1]) >= 5 * 142, lines[4]
    assert lines[5:] == [
        "detached",
        "pin kept after the collection closed: True",
        "cleaned up: namespaces deleted, bpffs unmounted",
    ]
    tag = attached[1]
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert tag not in namespaces
    assert "pybpftool-example-bpffs-" not in Path("/proc/self/mounts").read_text()


def readme_example() -> str:
    """readme_example: the first ```python block of the README's "Python API" section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "no python block in the Python API section"
    return found[1]


def test_the_readme_example_runs(tmp_path: Path, netns: str, bpffs: str) -> None:
    code = readme_example()
    for name in ('"blue"', '"/run/mybpf"', '"tc_legacy_pinned.o"'):
        assert name in code, name
    obj = build_example_object(tmp_path)
    code = code.replace('"blue"', repr(netns)).replace('"/run/mybpf"', repr(bpffs))
    code = code.replace('"tc_legacy_pinned.o"', repr(str(obj)))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "0\n"  # nothing crossed v0 yet: the array slot holds 0
    assert Path(bpffs, "tc/globals/tc_bytes").exists()  # the pin stays, as the README says
    shown = subprocess.run(
        ["tc", "-n", netns, "filter", "show", "dev", "v0", "ingress"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout == ""  # detached
