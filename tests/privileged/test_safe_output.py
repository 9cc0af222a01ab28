"""Names from devices and objects never reach the terminal raw; JSON stays valid.

A device or file name may hold terminal escapes (ESC [2J clears the screen): pyip and pytc
print them escaped as \\x1b in text and in error messages; JSON carries them \\u001b-escaped.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import bpfobjs
from scripts import BIN, filter_argv, run

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
EVIL = "e\x1b[2J"  # a valid interface name: only '/', ':' and blanks are refused


def test_device_names_are_escaped_in_link_show_and_valid_in_json(netns: str) -> None:
    assert (
        run("ip", "-n", netns, "link", "add", EVIL, "type", "veth", "peer", "name", "p").returncode
        == 0
    )
    text = run(str(BIN / "pyip"), "-n", netns, "link", "show")
    assert "\x1b" not in text.stdout and "e\\x1b[2J" in text.stdout
    doc = json.loads(run(str(BIN / "pyip"), "-n", netns, "-j", "link", "show").stdout)
    assert EVIL in [link["ifname"] for link in doc]


def test_error_messages_escape_the_names_they_quote(netns: str) -> None:
    done = run(
        str(BIN / "pytc"),
        "-n",
        netns,
        "filter",
        "add",
        "dev",
        EVIL,
        "ingress",
        "bpf",
        "da",
        "obj",
        "x.o",
    )
    assert done.returncode == 1
    assert done.stderr == 'Cannot find device "e\\x1b[2J"\n'


def test_object_file_names_are_escaped_in_filter_show(
    netns: str, env: dict[str, str], tmp_path: Path
) -> None:
    obj = tmp_path / "tw\x1b]0;pwned\x07in.o"
    shutil.copy(bpfobjs.build("twin_btf", HOST), obj)
    assert run("tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact").returncode == 0
    added = run(*filter_argv(netns, "add", str(obj)), env=env)
    assert added.returncode == 0, added.stderr
    text = run(str(BIN / "pytc"), "-n", netns, "filter", "show", "dev", "v0", "ingress").stdout
    assert "\x1b" not in text and "\x07" not in text
    assert "tw\\x1b]0;pwned\\x07in.o:[classifier]" in text
    doc = json.loads(
        run(str(BIN / "pytc"), "-n", netns, "-j", "filter", "show", "dev", "v0", "ingress").stdout
    )
    assert doc[1]["options"]["bpf_name"] == f"{obj.name}:[classifier]"


FORGED_MAP = "evil\nFAKE: created OK"  # as long as the name it replaces


def forged_map(tmp_path: Path) -> str:
    """forged_map: forged_names.o with its map renamed FORGED_MAP and made one the kernel
    refuses (max_elem 0)."""
    obj = bpfobjs.build("forged_names", HOST, "-DMAX_ELEM=0")
    out = tmp_path / "forged.o"
    return str(bpfobjs.renamed_symbol(obj, "evil_map_name_patched", FORGED_MAP, out))


def forged_sections() -> str:
    """forged_sections: forged_names.o, whose section names hold a newline."""
    return str(bpfobjs.build("forged_names", HOST))


def forged_lines(stderr: str) -> list[str]:
    return [line for line in stderr.split("\n") if line.startswith("FAKE")]


def test_a_refused_map_name_with_a_newline_forges_no_line(
    netns: str, env: dict[str, str], tmp_path: Path
) -> None:
    assert run("tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact").returncode == 0
    argv = filter_argv(netns, "add", forged_map(tmp_path))
    done = run(*argv, "sec", "classifier\nFAKE: filter installed OK", env=env)
    assert done.returncode == 1
    assert forged_lines(done.stderr) == []
    assert "Map object 'evil\\x0aFAKE: created OK' rejected: Invalid argument" in done.stderr


def test_a_rejected_section_name_with_a_newline_forges_no_line(
    netns: str, env: dict[str, str]
) -> None:
    argv = [str(BIN / "pyip"), "-n", netns, "link", "set", "dev", "v0", "xdp", "obj"]
    done = run(*argv, forged_sections(), "sec", "xdp\nFAKE: program attached OK", env=env)
    assert done.returncode == 255
    assert forged_lines(done.stderr) == []
    assert "Prog section 'xdp\\x0aFAKE: program attached OK' rejected" in done.stderr


def test_verbose_load_report_forges_no_line(netns: str, env: dict[str, str]) -> None:
    assert run("tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact").returncode == 0
    argv = filter_argv(netns, "add", forged_sections())
    done = run(*argv, "sec", "classifier\nFAKE: filter installed OK", "verbose", env=env)
    assert done.returncode == 0, done.stderr
    assert forged_lines(done.stderr) == []
    assert "Prog section 'classifier\\x0aFAKE: filter installed OK' loaded" in done.stderr
