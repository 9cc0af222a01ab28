"""Commands at once sharing pins: eight `pytc filter replace` of one object on eight veths
share one pinned map; a command failing late (after seconds in the verifier) against eight
successful ones sharing its pins publishes nothing, so every filter uses the pinned maps."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import bpfobjs
from pinstate import filter_prog_ids, pin_files, pinned_id, prog_map_ids
from scripts import filter_argv

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
N = 8


def sh(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def attached_map_ids(netns: str, dev: str) -> list[int]:
    shown = json.loads(sh("tc", "-n", netns, "-j", "filter", "show", "dev", dev, "ingress"))
    prog = next(f["options"]["prog"]["id"] for f in shown if "options" in f)
    return list(json.loads(sh("bpftool", "-j", "prog", "show", "id", str(prog)))["map_ids"])


def veths(netns: str, devs: list[str]) -> None:
    for dev in devs:
        sh("ip", "-n", netns, "link", "add", dev, "type", "veth", "peer", "name", f"{dev}p")
        sh("tc", "-n", netns, "qdisc", "add", "dev", dev, "clsact")


def released_together(argvs: list[list[str]], env: dict[str, str]) -> list[subprocess.Popen[str]]:
    """released_together: start the commands, each waiting for one line, then release all."""
    start = [
        subprocess.Popen(
            ["sh", "-c", 'read go; exec "$0" "$@"', *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for argv in argvs
    ]
    for proc in start:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    return start


def test_eight_replaces_at_once_share_one_pinned_map(
    netns: str, env: dict[str, str], bpffs: str
) -> None:
    devs = [f"c{i}" for i in range(N)]
    veths(netns, devs)
    obj = str(bpfobjs.build("twin_legacy", HOST))
    argvs = [filter_argv(netns, "replace", obj, dev, pref=1, handle=1) for dev in devs]
    start = released_together(argvs, env)
    results = [proc.communicate(timeout=120) for proc in start]
    assert [p.returncode for p in start] == [0] * N, [err for _out, err in results]
    pins = sorted(
        str(p.relative_to(bpffs))
        for p in Path(bpffs).rglob("*")
        if not p.is_dir() and not p.is_symlink() and not p.name.endswith(".debug")
    )
    assert pins == ["tc/globals/twin_counters", "tc/globals/twin_outer"]
    counters = pinned_id(f"{bpffs}/tc/globals/twin_counters")
    for dev in devs:
        assert counters in attached_map_ids(netns, dev), dev


def test_replacing_a_program_keeps_the_pinned_map_contents(
    netns: str, env: dict[str, str], bpffs: str
) -> None:
    sh("tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact")
    obj = str(bpfobjs.build("twin_legacy", HOST))
    replace = filter_argv(netns, "replace", obj, pref=1, handle=1)
    subprocess.run(replace, check=True, env=env)
    pin = f"{bpffs}/tc/globals/twin_counters"
    # Key 5: the program itself only counts under key 0 (traffic may reach v0 meanwhile).
    key = ["key", "5", "0", "0", "0"]
    value = ["value", "7", "0", "0", "0", "0", "0", "0", "0"]
    sh("bpftool", "map", "update", "pinned", pin, *key, *value)
    for _ in range(3):
        subprocess.run(replace, check=True, env=env)
    dump = json.loads(sh("bpftool", "-j", "map", "lookup", "pinned", pin, *key))
    assert [int(b, 16) for b in dump["value"]] == [7, 0, 0, 0, 0, 0, 0, 0]


def bpf_maps_held(pid: int) -> int:
    """bpf_maps_held: how many map fds process `pid` holds."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):  # closed meanwhile
            count += os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:bpf-map"
    return count


def test_a_late_failure_racing_eight_successes_leaves_one_map_per_pin(
    netns: str, env: dict[str, str], bpffs: str
) -> None:
    """txn_slow shares txn_legacy's three pins; its classifier keeps the verifier busy for
    seconds, then is refused. It starts first, on an empty bpffs; once its maps exist (a
    loader that pinned maps as it created them would have pinned them now), eight commands
    loading txn_legacy start together. At the end every one of their filters references
    exactly the pinned maps, one per pin name."""
    devs = [f"c{i}" for i in range(N)]
    veths(netns, [*devs, "cf"])
    slow = str(bpfobjs.build("txn_slow", HOST))
    failing = subprocess.Popen(
        filter_argv(netns, "add", slow, "cf"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    while bpf_maps_held(failing.pid) < 4 and failing.poll() is None:
        assert time.monotonic() < deadline, "the failing command never created its maps"
        time.sleep(0.005)
    assert failing.poll() is None, "premise: the failing command is verifying"
    good = str(bpfobjs.build("txn_legacy", HOST))
    argvs = [filter_argv(netns, "add", good, dev, pref=1, handle=1) for dev in devs]
    start = released_together(argvs, env)
    results = [proc.communicate(timeout=120) for proc in start]
    assert [p.returncode for p in start] == [0] * N, [err for _out, err in results]
    assert failing.poll() is None, "premise: the eight ran while the failing one verified"
    _out, err = failing.communicate(timeout=300)
    assert failing.returncode != 0 and "invalid bpf_context access" in err, err
    pins = pin_files(Path(bpffs) / "tc" / "globals")
    assert sorted(pins) == ["txn_hits", "txn_jmp", "txn_outer"]
    pinned = {pinned_id(path) for path in pins.values()}
    for dev in devs:
        (prog,) = filter_prog_ids(netns, dev)
        assert prog_map_ids(prog) == pinned, dev
    assert filter_prog_ids(netns, "cf") == []
