"""Completion for pyip, pytc and pybpftool comes from the parsers' own tables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import bpfobjs
import pytest

from pybpftool.cli.bpftool import complete
from pybpftool.cli.bpftool.complete import candidates


@pytest.mark.parametrize(
    ("tool", "words", "expected"),
    [
        ("ip", ["li"], ["link"]),
        ("ip", ["link", "s"], ["set", "show"]),
        ("ip", ["link", "set", "dev", "lo", "xdpg"], ["xdpgeneric"]),
        (
            "ip",
            ["link", "set", "dev", "lo", "xdp", "o"],
            ["off", "object-file", "obj", "object-pinned"],
        ),
        ("ip", ["link", "set", "lo", "xdp", "obj", "f.o", "s"], ["section"]),
        ("ip", ["-n"], ["-netns"]),  # case matters: -Numeric needs -N
        ("tc", ["-n"], ["-netns", "-names", "-nm"]),
        ("tc", ["filter", "add", "dev", "lo", "ingress", "bpf", "d"], ["direct-action", "da"]),
        ("tc", ["filter", "add", "dev", "lo", "e"], ["egress"]),
        ("tc", ["exec", "bpf", "g"], ["graft"]),
        ("tc", ["zz", ""], []),
        ("tc", ["c"], ["chain"]),  # tc's `c` is class, which pytc lacks
        ("tc", ["a"], ["actions"]),
        (
            "tc",
            ["actions", ""],
            ["add", "change", "replace", "get", "delete", "list", "flush", "help"],
        ),
        ("tc", ["actions", "add", "action", ""], ["gact", "bpf", "mirred"]),
        ("tc", ["actions", "add", "action", "gact", "dr"], ["drop"]),
        ("tc", ["actions", "add", "action", "mirred", "egress", "re"], ["redirect"]),
        ("tc", ["actions", "get", "a"], ["action"]),
        (
            "tc",
            ["filter", "add", "dev", "lo", "ingress", "bpf", "da", "obj", "x.o", "ac"],
            ["action"],
        ),
        (
            "tc",
            ["filter", "add", "dev", "lo", "ingress", "bpf", "obj", "x.o", "action", "g"],
            ["gact"],
        ),
        ("tc", ["chain", ""], ["add", "delete", "get", "show", "help"]),
        ("tc", ["chain", "add", "dev", "lo", "ingress", "ch"], ["chain"]),
        (
            "tc",
            ["chain", "add", "dev", "lo", "ingress", "bpf", "obj", "x.o", "d"],
            ["direct-action", "da"],
        ),
        ("tc", ["qdisc", "l"], ["link"]),
        ("ip", ["v"], ["vrf"]),
        ("ip", ["vrf", ""], ["show", "identify", "pids", "exec", "help"]),
        ("ip", ["-j", "vrf", "i"], ["identify"]),
        ("ip", ["-n", "ns", "li"], ["link"]),  # the namespace is a value, not the object
        ("tc", ["-batch", ""], []),  # a file: the shell completes it
        ("tc", ["-zz", ""], []),
    ],
)
def test_candidates_follow_the_grammar(tool: str, words: list[str], expected: list[str]) -> None:
    assert candidates(tool, words) == expected


def test_device_names_after_dev() -> None:
    assert "lo" in candidates("ip", ["link", "set", "dev", ""])


@pytest.mark.parametrize(
    ("tool", "words"),
    [
        ("ip", ["-n", ""]),
        ("ip", ["-netns", "de"]),
        ("ip", ["--netns", "de"]),
        ("tc", ["-j", "-n", "de"]),
        ("tc", ["-netns", ""]),
    ],
)
def test_namespace_names_after_n(
    tool: str, words: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("demo-a", "demo-b", "other"):
        (tmp_path / name).touch()
    monkeypatch.setattr(complete, "NETNS_DIR", str(tmp_path))
    expected = ["demo-a", "demo-b"] if words[-1] == "de" else ["demo-a", "demo-b", "other"]
    assert candidates(tool, words) == expected


def test_section_and_program_names_come_from_the_object() -> None:
    obj = str(bpfobjs.build("../../examples/tc_tail_calls"))
    line = ["filter", "add", "dev", "lo", "ingress", "bpf", "da", "obj", obj]
    assert candidates("tc", [*line, "sec", ""]) == ["1/0", "1/1", "classifier"]
    assert candidates("tc", [*line, "section", "c"]) == ["classifier"]
    assert candidates("tc", [*line, "program", ""]) == ["even_mark", "odd_mark", "dispatch"]
    xdp = ["link", "set", "dev", "lo", "xdp", "obj", obj, "sec", ""]
    assert candidates("ip", xdp) == ["1/0", "1/1", "classifier"]
    graft = ["exec", "bpf", "graft", "m:x", "key", "0", "obj", obj, "sec", "1"]
    assert candidates("tc", graft) == ["1/0", "1/1"]


def test_sections_of_an_unreadable_object_are_none(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.o"
    bogus.write_bytes(b"not an object")
    for path in (str(bogus), str(tmp_path / "missing.o")):
        assert candidates("tc", ["filter", "add", "bpf", "obj", path, "sec", ""]) == []


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ([""], ["help", "object", "sandbox", "completion"]),
        (["o"], ["object"]),
        (["obj", ""], ["help", "show", "verify", "convert"]),
        (["object", "convert", "x.o", "--tail-calls", ""], ["static", "graft"]),
        (["object", "v"], ["verify"]),
        (
            ["object", "verify", "--"],
            [
                "--type",
                "--btf",
                "--verbose",
                "--json",
                "--log-size",
                "--max-map-size",
                "--max-maps-size",
                "--help",
            ],
        ),
        (["object", "verify", "--type", "sched_c"], ["sched_cls"]),
        (["object", "verify", "--json", "--type", "x"], ["xdp"]),
        (["object", "verify", "--btf", ""], []),  # a file
        (["object", "show", ""], []),  # a file
        (["completion", ""], ["bash", "zsh"]),
        (["sa", ""], ["help", "status", "check"]),
        (["nope", ""], []),
    ],
)
def test_pybpftool_completes_its_own_commands(words: list[str], expected: list[str]) -> None:
    assert candidates("bpftool", words) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("pyip link set dev lo xdpg", ["xdpgeneric"]),
        ("pytc chain ad", ["add"]),
        ("pybpftool obj", ["object"]),
        ("pybpftool object verify -h", []),  # a word, not pybpftool's own -h
        ("pybpftool object verify --ty", ["--type"]),
        ("/usr/local/bin/pybpftool completion b", ["bash"]),
    ],
)
def test_bash_script_completes_through_the_callback(
    line: str, expected: list[str], tmp_path: Path
) -> None:
    bindir = Path(sys.executable).parent
    script = subprocess.run(
        [str(bindir / "pybpftool"), "completion", "bash"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    words = line.split()
    probe = script + f"COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}\n"
    probe += f"cd {tmp_path}\n"  # an empty folder: no file name matches the word
    probe += '_pybpftool_complete; for w in "${COMPREPLY[@]}"; do echo "$w"; done\n'
    probe += "complete -p pybpftool\n"
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, env=env)
    *found, registered = out.stdout.split("\n")[:-1]
    assert found == expected, out.stderr
    assert registered.startswith("complete -F _pybpftool_complete")


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["pyip", "link", "set", "dev", "lo", "xdpg"], ["xdpgeneric"]),
        (["pybpftool", "object", ""], ["help", "show", "verify", "convert"]),  # "" is kept
        (["pytc", "chain", "ad"], ["add"]),
        (["pybpftool", "object", "show", "x"], ["FILES"]),  # nothing found: zsh's files
    ],
)
def test_zsh_script_completes_through_the_callback(words: list[str], expected: list[str]) -> None:
    """zsh's completion system is stood in for by compadd and _files that print what they
    get; the script's own function and callback run for real."""
    bindir = Path(sys.executable).parent
    script = subprocess.run(
        [str(bindir / "pybpftool"), "completion", "zsh"], capture_output=True, text=True, check=True
    ).stdout
    probe = (
        "compdef() { :; }\n"
        'compadd() { shift; print -l -- "${(@P)1}"; }\n'
        "_files() { print FILES; }\n"
        + script
        + f"words=({' '.join(repr(w) for w in words)}); CURRENT={len(words)}\n"
        + "_pybpftool\n"
    )
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}
    out = subprocess.run(["zsh", "-f", "-c", probe], capture_output=True, text=True, env=env)
    assert out.stdout.split("\n")[:-1] == expected, out.stderr
