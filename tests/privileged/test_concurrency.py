"""Eight `pytc filter replace` at once with one object and a pinned map, on eight veths."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import bpfobjs
from scripts import filter_argv

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
N = 8


def sh(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def pinned_id(path: str) -> int:
    return int(json.loads(sh("bpftool", "-j", "map", "show", "pinned", path))["id"])


def attached_map_ids(netns: str, dev: str) -> list[int]:
    shown = json.loads(sh("tc", "-n", netns, "-j", "filter", "show", "dev", dev, "ingress"))
    prog = next(f["options"]["prog"]["id"] for f in shown if "options" in f)
    return list(json.loads(sh("bpftool", "-j", "prog", "show", "id", str(prog)))["map_ids"])


def test_eight_replaces_at_once_share_one_pinned_map(
    netns: str, env: dict[str, str], bpffs: str
) -> None:
    devs = [f"c{i}" for i in range(N)]
    for dev in devs:
        sh("ip", "-n", netns, "link", "add", dev, "type", "veth", "peer", "name", f"{dev}p")
        sh("tc", "-n", netns, "qdisc", "add", "dev", dev, "clsact")
    obj = str(bpfobjs.build("twin_legacy", HOST))
    start = [
        subprocess.Popen(
            [
                "sh",
                "-c",
                'read go; exec "$0" "$@"',
                *filter_argv(netns, "replace", obj, dev, pref=1, handle=1),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for dev in devs
    ]
    for proc in start:  # release them together
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
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
