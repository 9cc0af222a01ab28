"""SIGKILL at every step of a first load: a pin appears only complete (issue 16).

`pytc filter replace` of an object whose maps are all pinned (a map-in-map, a prog array
filled by tail calls or static slots, a counter array) runs under strace, which kills it
(`-e inject=SYSCALL:signal=KILL:when=N`, delivered on entry to the N-th call) at each bpf(2)
call, each renameat2 (a complete map waits under a temporary pin name) and each netlink
request (sendto) in turn, on a bpffs that starts empty (a first load: maps created, filled,
published) and, for the legacy object, with its pins in place (a reload: tail calls written
into the pinned prog array at commit). After each kill:
- every pin present is complete: all the slots the object declares are filled (read back
  through the kernel);
- a normal rerun succeeds; it removes the temporary pins the dead process left (never adopts
  them), its filter references exactly the pinned maps, and those are complete.
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import bpfobjs
import pytest
from faults import pytc
from pinstate import (
    filter_prog_ids,
    incomplete,
    pin_files,
    pinned_id,
    prog_map_ids,
    temporary_pins,
)
from scripts import BIN

from pybpftool.parser import parse_object
from pybpftool.spec import Pinning

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
KILL_AT = ("bpf", "renameat2", "sendto")
_CALL = re.compile(r"^\d+\s+(\w+)\(")


def strace(*options: str) -> list[str]:
    """strace: the strace command tracing only KILL_AT."""
    if shutil.which("strace") is None:
        pytest.fail("strace is required (.ci/setup installs it)")
    return ["strace", "-f", "-qq", "-e", f"trace={','.join(KILL_AT)}", *options]


def call_counts(argv: list[str], env: dict[str, str], log: Path) -> dict[str, int]:
    """call_counts: how often a full run makes each call of KILL_AT."""
    done = subprocess.run([*strace("-o", str(log)), *argv], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    lines = log.read_text().splitlines()
    counts = collections.Counter(m.group(1) for m in map(_CALL.match, lines) if m)
    return {call: counts[call] for call in KILL_AT}


def killed_at(argv: list[str], env: dict[str, str], call: str, n: int) -> None:
    inject = f"inject={call}:signal=KILL:when={n}"
    done = subprocess.run(
        [*strace("-o", os.devnull, "-e", inject), *argv], capture_output=True, text=True, env=env
    )
    assert done.returncode == -signal.SIGKILL, f"{call} #{n} was not killed: {done.stderr}"


def reset(netns: str, globals_dir: Path, keep_pins: bool) -> None:
    """reset: no filter, and no pin unless `keep_pins` (then the run reuses them)."""
    subprocess.run(["tc", "-n", netns, "filter", "del", "dev", "v0", "ingress"], check=False)
    for path in pin_files(globals_dir).values():
        if not keep_pins:
            path.unlink()


@pytest.mark.parametrize(
    ("name", "select", "keep_pins"),
    [
        pytest.param(
            "txn_legacy", ("sec", "classifier"), False, id="legacy-map-in-map-and-tail-calls"
        ),
        pytest.param(
            "txn_legacy", ("sec", "classifier"), True, id="legacy-tail-calls-into-pinned-array"
        ),
        pytest.param(
            "txn_btf",
            ("program", "txnb_main"),
            False,
            id="btf-array-map-in-map-and-static-prog-array",
        ),
    ],
)
def test_a_kill_at_any_step_leaves_only_complete_pins(
    name: str,
    select: tuple[str, str],
    keep_pins: bool,
    in_netns: str,
    env: dict[str, str],
    bpffs: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subprocess.run(["tc", "-n", in_netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    monkeypatch.setenv("TC_BPF_MNT", bpffs)
    obj = str(bpfobjs.build(name, HOST))
    spec = parse_object(obj)
    line = ["filter", "replace", "dev", "v0", "ingress", "pref", "1", "handle", "1"]
    line += ["bpf", "da", "obj", obj, *select]
    argv = [str(BIN / "pytc"), "-n", in_netns, *line]
    globals_dir = Path(bpffs) / "tc" / "globals"
    pinned = sorted(m.name for m in spec.maps if m.pinning is not Pinning.NONE)
    if keep_pins:
        assert pytc(*line)[0] == 0  # the pins the runs then reuse
        reset(in_netns, globals_dir, keep_pins)
    counts = call_counts(argv, env, tmp_path / "calls.txt")
    assert sorted(pin_files(globals_dir)) == pinned
    published = 0 if keep_pins else len(pinned)
    # sendto: the filter request (the device's index comes from SIOCGIFINDEX, an ioctl)
    assert counts["bpf"] >= 15 and counts["renameat2"] == published and counts["sendto"] >= 1
    tried = 0
    for call, total in counts.items():
        for n in range(1, total + 1):
            reset(in_netns, globals_dir, keep_pins)
            where = f"killed at {call} #{n}"
            killed_at(argv, env, call, n)
            assert incomplete(bpffs, spec) == [], where
            if call == "renameat2":  # the map it was renaming waits under a temporary name
                assert temporary_pins(globals_dir), where
            status, err = pytc(*line)  # the rerun, in-process (this process is in the netns)
            assert status == 0, f"{where}: rerun failed: {err}"
            assert temporary_pins(globals_dir) == [], f"{where}: temporary pins left"
            assert sorted(pin_files(globals_dir)) == pinned, where
            assert incomplete(bpffs, spec) == [], where
            ids = {pinned_id(p) for p in pin_files(globals_dir).values()}
            (prog,) = filter_prog_ids(in_netns, "v0")
            assert ids <= prog_map_ids(prog), f"{where}: the filter uses maps that are not pinned"
            tried += 1
    assert tried == sum(counts.values())
