"""`pybpftool object convert`: --check reports and writes nothing; -o writes the whole output
or nothing at all; refusals name the map, the feature and the options; exit statuses.

Run as subprocesses of the installed script, so the command confines itself as it does for
users (PYBPFTOOL_SANDBOX=on: the output must still be renamed into place under Landlock)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import bpfobjs

from pybpftool.parser import parse_object
from pybpftool.spec import MapOrigin

PYBPFTOOL = str(Path(sys.executable).parent / "pybpftool")
SUBSTITUTES = ("--object-ns-pins", "global", "--custom-pins", "none", "--tail-calls", "graft")


def convert(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYBPFTOOL_SANDBOX": "on"}
    return subprocess.run(
        [PYBPFTOOL, "object", "convert", *args], capture_output=True, text=True, env=env
    )


def umask() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1], 8) for line in status if line.startswith("Umask:"))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_check_lists_every_refusal_and_writes_nothing(tmp_path: Path) -> None:
    obj = bpfobjs.build("legacy_maps")
    done = convert("--check", str(obj))
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == ["refused"] * 3
    assert lines[0].startswith("refused: map 'per_object': PIN_OBJECT_NS: ")
    assert "choices: --object-ns-pins global" in lines[0]
    assert lines[1].startswith("refused: map 'custom_pin': custom pinning id 5: ")
    assert lines[2].startswith("refused: map 'jmp_tc': tail calls (sections 42/0, 0x2a/1): ")
    assert lines[-1] == f"refused: {obj}"
    assert done.stderr == ""


def test_check_of_a_convertible_object_says_ok() -> None:
    obj = bpfobjs.build("iproute2/shared")
    done = convert("--check", str(obj))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"ok: {obj}"


def test_convert_writes_a_btf_object_and_names_the_grafts(tmp_path: Path, target: str) -> None:
    out = tmp_path / "out.o"
    done = convert(str(bpfobjs.build("legacy_maps", target)), "-o", str(out), *SUBSTITUTES)
    assert done.returncode == 0, done.stderr
    assert [m.origin for m in parse_object(out).maps] == [MapOrigin.BTF] * 6
    assert done.stdout.splitlines()[-2:] == [
        f"graft: tc exec bpf graft m:globals/jmp_tc key 0 obj {out} sec 42/0",
        f"graft: tc exec bpf graft m:globals/jmp_tc key 1 obj {out} sec 0x2a/1",
    ]
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask()  # as a new file gets
    assert leftovers(tmp_path) == []


def test_refused_conversion_leaves_an_existing_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out.o"
    out.write_bytes(b"previous")
    out.chmod(0o600)
    done = convert(str(bpfobjs.build("legacy_maps")), "-o", str(out))
    assert done.returncode == 1
    assert done.stderr.splitlines()[-2:] == [
        "pybpftool: conversion refused: 3 features without a BTF equivalent",
        "run with --check to see every finding; the choices name the options that apply",
    ]
    assert out.read_bytes() == b"previous" and leftovers(tmp_path) == []
    done = convert(str(bpfobjs.build("iproute2/shared")), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"\x7fELF")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # replaced, with its permissions


def test_a_broken_object_is_one_line_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.o"
    bad.write_bytes(b"\x7fELF" + bytes(60))
    for args in (["--check", str(bad)], [str(bad), "-o", str(tmp_path / "o.o")]):
        done = convert(*args)
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.startswith("pybpftool: ") and "Traceback" not in done.stderr
    assert leftovers(tmp_path) == [] and not (tmp_path / "o.o").exists()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    obj = str(bpfobjs.build("legacy_maps"))
    for args in ([obj], [obj, "--check", "-o", str(tmp_path / "x.o")], [obj, "--tail-calls", "x"]):
        assert convert(*args).returncode == 2, args
    done = convert(obj, "-o", str(tmp_path / "missing" / "x.o"), *SUBSTITUTES)
    assert done.returncode == 2
    assert (
        done.stderr
        == f"pybpftool: cannot write {tmp_path}/missing/x.o: No such file or directory\n"
    )
