"""check: `pybpftool sandbox status` and `sandbox check`.

check runs, in a child confined with the real policy, each operation the policy must deny
(create a file outside the pin root, truncate a pin under it, an ioctl on /dev/null, a TCP
connect to 127.0.0.1) and one it must allow (pin a map under the root), and reports each
outcome with, when audit is on, the blocker the kernel logged for it.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from collections.abc import Callable
from typing import Any

from pybpftool import sandbox
from pybpftool.kernel import landlock as ll
from pybpftool.sandbox.audit import AuditReader, Denial, Domain, audit_enabled

TIOCGWINSZ_LIKE = 0x541B  # FIONREAD: a device ioctl /dev/null answers when allowed


def status() -> dict[str, Any]:
    """status: ABI, the rights the sandbox handles and enforces, audit availability."""
    abi = ll.abi_version()
    handled_fs = [name for name, bit in ll.FS.items() if bit & ll.fs_mask(abi)]
    reader_ok = True
    try:
        AuditReader().close()
    except OSError:
        reader_ok = False
    return {
        "abi": abi,
        "mode": sandbox.mode(),
        "handled": {
            "fs": handled_fs,
            "net": [n for n, bit in ll.NET.items() if bit & ll.net_mask(abi)],
            "scope": [n for n, bit in ll.SCOPE.items() if bit & ll.scope_mask(abi)],
        },
        "allowed": {
            "read": ["the files a command names", *sandbox.FIXED_INPUTS, "library folders"],
            "pin_root": [n for n, bit in ll.FS.items() if bit & sandbox.PIN_ROOT],
        },
        "audit": {"enabled": bool(audit_enabled()), "readable": reader_ok},
    }


def check(pin_root: str) -> list[dict[str, Any]]:
    """check: each probe's outcome (denied/allowed, as expected or not, blocker if logged)."""
    from pybpftool.kernel.bpf import Kernel, MapRequest

    kernel = Kernel()
    outside = tempfile.mkdtemp(prefix="pybpftool-check-")
    victim = os.path.join(pin_root, f"pybpftool-check-{os.getpid()}")
    with kernel.map_create(MapRequest(2, 4, 4, 1)) as probe_map:
        kernel.obj_pin(probe_map, victim)
    try:
        reader: AuditReader | None = AuditReader()
    except OSError:
        reader = None
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the confined child: whatever happens, it never returns into the caller
        status = 1
        try:
            os.close(read_fd)
            os.write(write_fd, json.dumps(_probe(pin_root, outside, victim)).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        results: list[dict[str, Any]] = json.loads(pipe.read() or "[]")
    os.waitpid(pid, 0)
    for path in (victim, os.path.join(outside, "file")):
        if os.path.exists(path):
            os.unlink(path)
    os.rmdir(outside)
    records = reader.records(wait=0.5) if reader is not None else []
    if reader is not None:
        reader.close()
    _attribute(results, records, pid)
    return results


def _probe(pin_root: str, outside: str, victim: str) -> list[dict[str, Any]]:
    import fcntl

    from pybpftool.kernel.bpf import Kernel, MapRequest

    sandbox.STATE.enforced = False
    policy = sandbox.command_policy([], pin_root)
    # Reading /dev/null is granted here only so that the ioctl probe meets the ioctl right
    # (a device's rights are fixed when it is opened, so it is opened after confinement).
    sandbox.confine(sandbox.Policy(policy.read, policy.pin_root, ("/dev/null",)))
    kernel = Kernel()
    allowed_pin = os.path.join(pin_root, f"pybpftool-check-ok-{os.getpid()}")

    def pin() -> None:
        with kernel.map_create(MapRequest(2, 4, 4, 1)) as fd:
            kernel.obj_pin(fd, allowed_pin)
        os.unlink(allowed_pin)

    probes: list[tuple[str, str, str | None, Callable[[], object]]] = [
        (
            "create a file outside the pin root",
            "deny",
            os.path.join(outside, "file"),
            lambda: os.close(os.open(os.path.join(outside, "file"), os.O_CREAT | os.O_WRONLY)),
        ),
        ("truncate a pin under the pin root", "deny", victim, lambda: os.truncate(victim, 0)),
        (
            "ioctl on /dev/null",
            "deny",
            "/dev/null",
            lambda: _ioctl_devnull(fcntl),
        ),
        (
            "TCP connect to 127.0.0.1",
            "deny",
            None,
            lambda: socket.create_connection(("127.0.0.1", 9), timeout=1).close(),
        ),
        ("pin a map under the pin root", "allow", allowed_pin, pin),
    ]
    results = []
    for name, expect, path, action in probes:
        try:
            action()
            outcome, error = "allowed", ""
        except OSError as err:
            outcome = "denied" if err.errno == 13 or "Permission" in str(err) else "failed"
            error = err.strerror or str(err)
        results.append(
            {
                "operation": name,
                "expected": expect,
                "outcome": outcome,
                "error": error,
                "path": path,
                "blocker": None,
            }
        )
    return results


def _ioctl_devnull(fcntl: Any) -> None:
    with open("/dev/null", "rb") as devnull:
        fcntl.ioctl(devnull, TIOCGWINSZ_LIKE, b"\0" * 4)


def _attribute(results: list[dict[str, Any]], records: list[Denial | Domain], child: int) -> None:
    domains = {r.domain for r in records if isinstance(r, Domain) and r.pid == child}
    denials = [r for r in records if isinstance(r, Denial) and r.domain in domains]
    for result in results:
        if result["outcome"] != "denied":
            continue
        path = result["path"]
        for denial in denials:
            if (path is None and denial.blockers[0].startswith("net.")) or (
                path is not None
                and denial.path is not None
                and (denial.path == path or path.startswith(denial.path + "/"))
            ):
                result["blocker"] = ",".join(denial.blockers)
                break
