"""A reader that goes away (`| head -1`, a closed pipe) ends every command quietly, with the
sandbox on: exit status 1, nothing on standard error, no traceback.

Two readers: one that closed its end before the command started (the first write fails), and
one that reads a line and closes while the command still has pages to write.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import bpfobjs
import pytest
from scripts import BIN, filter_argv, run

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
PROGRAMS = 1500  # enough rows that `object show` writes well past a pipe's 64 KiB


def confined(env: dict[str, str]) -> dict[str, str]:
    """confined: the sandbox on, and stdout buffered as users have it: with PYTHONUNBUFFERED
    a write cut short by the reader going away is a short count, silently dropped by
    Python's text layer, not an error (the command would end 0 with its output cut)."""
    out = {**env, "PYBPFTOOL_SANDBOX": "on"}
    out.pop("PYTHONUNBUFFERED", None)
    return out


def into_closed_pipe(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """into_closed_pipe: run `argv` with stdout a pipe whose reader is already gone."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(argv, stdout=writer, stderr=subprocess.PIPE, text=True, env=env)
    finally:
        os.close(writer)
    return done.returncode, done.stderr


def into_head(argv: list[str], env: dict[str, str]) -> tuple[int, str, bytes]:
    """into_head: run `argv` into a reader that takes one line and closes (`| head -1`)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    return proc.wait(timeout=60), err, first


def big_object(tmp_path: Path) -> Path:
    """big_object: PROGRAMS tiny classifiers, so that `object show` writes a long table."""
    source = tmp_path / "many.c"
    body = "".join(
        f'SEC("classifier/p{i}") int prog_{i}(struct __sk_buff *skb) {{ return {i}; }}\n'
        for i in range(PROGRAMS)
    )
    source.write_text('#include "bpf_defs.h"\n' + body + 'char LICENSE[] SEC("license") = "GPL";\n')
    out = tmp_path / "many.o"
    include = f"-I{bpfobjs.BPF_DIR / 'include'}"
    cmd = [bpfobjs.CLANG, "-O2", "-target", HOST, include, "-c", str(source), "-o", str(out)]
    subprocess.run(cmd, check=True)
    return out


def object_commands(obj: str) -> list[list[str]]:
    tool = str(BIN / "pybpftool")
    return [
        [tool, "object", "show", obj],
        [tool, "object", "show", "--json", obj],
        [tool, "object", "verify", "--type", "sched_cls", obj],
        [tool, "object", "verify", "--type", "sched_cls", "--json", obj],
        [tool, "object", "convert", "--check", obj],
    ]


@pytest.mark.parametrize(
    "index", range(5), ids=["show", "show-json", "verify", "verify-json", "convert-check"]
)
def test_pybpftool_into_a_closed_pipe_is_quiet(env: dict[str, str], index: int) -> None:
    argv = object_commands(str(bpfobjs.build("legacy_maps", HOST)))[index]
    status, err = into_closed_pipe(argv, confined(env))
    assert (status, err) == (1, "")


@pytest.mark.parametrize(
    "words",
    [
        ["sandbox", "status"],
        ["sandbox", "status", "--json"],
        ["sandbox", "check"],
        ["completion", "bash"],
        ["help"],
        ["object", "help"],
        ["-V"],
    ],
    ids=" ".join,
)
def test_pybpftools_other_commands_into_a_closed_pipe_are_quiet(
    env: dict[str, str], words: list[str]
) -> None:
    status, err = into_closed_pipe([str(BIN / "pybpftool"), *words], confined(env))
    assert (status, err) == (1, "")


@pytest.mark.parametrize("tool", ["pyip", "pytc"])
def test_versions_into_a_closed_pipe_are_quiet(env: dict[str, str], tool: str) -> None:
    status, err = into_closed_pipe([str(BIN / tool), "-V"], confined(env))
    assert (status, err) == (1, "")


@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
def test_object_show_into_head_is_quiet(env: dict[str, str], tmp_path: Path, as_json: bool) -> None:
    obj = str(big_object(tmp_path))
    argv = [str(BIN / "pybpftool"), "object", "show", *(["--json"] if as_json else []), obj]
    status, err, first = into_head(argv, confined(env))
    assert first  # the reader got its line before it went away
    assert (status, err) == (1, "")


def attached(netns: str, env: dict[str, str]) -> None:
    """attached: a clsact qdisc and a bpf filter on v0, so that the shows have lines."""
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    done = run(*filter_argv(netns, "add", str(bpfobjs.build("legacy_maps", HOST))), env=env)
    assert done.returncode == 0, done.stderr


def test_pyip_and_pytc_shows_into_a_closed_pipe_are_quiet(netns: str, env: dict[str, str]) -> None:
    attached(netns, env)
    for argv in (
        [str(BIN / "pyip"), "-n", netns, "link", "show"],
        [str(BIN / "pyip"), "-n", netns, "-j", "link", "show"],
        [str(BIN / "pytc"), "-n", netns, "filter", "show", "dev", "v0", "ingress"],
        [str(BIN / "pytc"), "-n", netns, "-j", "filter", "show", "dev", "v0", "ingress"],
    ):
        status, err = into_closed_pipe(argv, confined(env))
        assert (status, err) == (1, ""), argv


def test_batches_into_a_closed_pipe_are_quiet(
    netns: str, env: dict[str, str], tmp_path: Path
) -> None:
    attached(netns, env)
    obj = str(bpfobjs.build("legacy_maps", HOST))
    tc_batch = tmp_path / "tc.batch"
    tc_batch.write_text(
        f"filter replace dev v0 ingress pref 1 handle 1 bpf da obj {obj}\n"
        + "filter show dev v0 ingress\n" * 50
    )
    ip_batch = tmp_path / "ip.batch"
    ip_batch.write_text("link show\n" * 50)
    for argv in (
        [str(BIN / "pytc"), "-n", netns, "-batch", str(tc_batch)],
        [str(BIN / "pyip"), "-n", netns, "-batch", str(ip_batch)],
    ):
        status, err = into_closed_pipe(argv, confined(env))
        assert (status, err) == (1, ""), argv


def into_full_disk(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """into_full_disk: run `argv` with stdout /dev/full (every write fails with ENOSPC)."""
    with open("/dev/full", "wb") as full:
        done = subprocess.run(argv, stdout=full, stderr=subprocess.PIPE, text=True, env=env)
    return done.returncode, done.stderr


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
def test_output_that_cannot_be_written_is_one_line(
    env: dict[str, str], tmp_path: Path, unbuffered: bool
) -> None:
    """A full disk is not a reader gone: the output is lost, so the command says so in one
    line and ends 1 (ip and tc end 0 with their output cut: a documented difference). rich
    flushes after each print, and an unbuffered stdout fails at the first write."""
    env = confined(env)
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    obj = str(big_object(tmp_path))
    cases = [
        ([str(BIN / "pybpftool"), "object", "show", obj], "pybpftool: "),
        ([str(BIN / "pybpftool"), "object", "show", "--json", obj], "pybpftool: "),
        ([str(BIN / "pyip"), "-V"], ""),
        ([str(BIN / "pytc"), "-V"], ""),
    ]
    for argv, prefix in cases:
        status, err = into_full_disk(argv, env)
        assert (status, err) == (1, f"{prefix}write error: No space left on device\n"), argv
