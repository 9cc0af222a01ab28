"""`pybpftool object verify` on the real kernel: a program whose type nothing names is not
verified (its own verdict and exit status 3), `--type NAME=TYPE` types one program, and the
verdicts are coloured on a terminal only."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import bpfobjs

VERIFY = [sys.executable, "-m", "pybpftool", "object", "verify"]


def verify_json(*args: str) -> tuple[int, dict[str, str], dict[str, int]]:
    obj = str(bpfobjs.build("../../examples/tc_tail_calls"))
    done = subprocess.run([*VERIFY, "--json", *args, obj], capture_output=True, text=True)
    assert done.stderr == ""
    doc = json.loads(done.stdout)
    counts = {k: doc[k] for k in ("accepted", "rejected", "not_verified")}
    return done.returncode, {p["name"]: p["verdict"] for p in doc["programs"]}, counts


def test_programs_without_a_type_are_not_verified_not_rejected() -> None:
    status, verdicts, counts = verify_json()
    assert status == 3
    assert verdicts == dict.fromkeys(("even_mark", "odd_mark", "dispatch"), "not_verified")
    assert counts == {"accepted": 0, "rejected": 0, "not_verified": 3}


def test_a_type_per_program() -> None:
    status, verdicts, _ = verify_json("--type", "dispatch=sched_cls")
    assert status == 3
    assert verdicts["dispatch"] == "accepted" and verdicts["even_mark"] == "not_verified"
    status, verdicts, counts = verify_json(
        "--type", "dispatch=sched_cls", "--type", "1/0=sched_cls", "--type", "odd_mark=sched_cls"
    )
    assert status == 0 and counts["accepted"] == 3


def test_a_rejection_outranks_programs_not_verified() -> None:
    # As XDP, dispatch's skb->mark (offset 8) is xdp_md's data_meta, a pointer: rejected.
    status, verdicts, counts = verify_json("--type", "dispatch=xdp")
    assert status == 1
    assert verdicts["dispatch"] == "rejected" and counts["not_verified"] == 2


def run_on_a_terminal(args: list[str]) -> tuple[int, bytes]:
    """run_on_a_terminal: `args` with stdout and stderr on a pseudo-terminal 120 columns wide."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(args, stdout=terminal, stderr=terminal, env=env)
    os.close(terminal)
    out = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(controller)
    return proc.wait(), out


def test_verdicts_are_coloured_on_a_terminal_and_plain_in_a_pipe() -> None:
    obj = str(bpfobjs.build("../../examples/tc_tail_calls"))
    args = [*VERIFY, "--type", "1/0=sched_cls", "--type", "dispatch=xdp", obj]
    status, shown = run_on_a_terminal(args)
    assert status == 1
    assert b"\x1b[" in shown and b"accepted" in shown and b"REJECTED" in shown
    piped = subprocess.run(args, capture_output=True, text=True)
    assert piped.returncode == 1
    assert "\x1b" not in piped.stdout and "REJECTED" in piped.stdout
    assert "not verified" in piped.stdout
