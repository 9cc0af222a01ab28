"""vrf: `pyip vrf {show [NAME]|identify [PID]|pids NAME|exec NAME CMD...}` (ip/ipvrf.c).

Messages and exit statuses are ip 6.1's. `vrf exec` joins the VRF's cgroup (with the socket
program of pybpftool.vrf for a real VRF) and execs the command, unconfined: it is the user's.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from pybpftool.cli.common.grammar import GlobalOptions, IprouteExit, matches
from pybpftool.cli.common.words import invarg

USAGE = (
    "Usage:\tip vrf show [NAME] ...\n"
    "\tip vrf exec [NAME] cmd ...\n"
    "\tip vrf identify [PID]\n"
    "\tip vrf pids [NAME]"
)
RT_TABLE_MAIN = 254

if TYPE_CHECKING:
    from pybpftool.cli.common.context import RunContext


def vrf_command(run: RunContext, args: list[str]) -> int:
    if not args:
        return show(run.opts, [])
    word, rest = args[0], args[1:]
    if matches(word, "identify"):
        return identify(rest)
    if matches(word, "pids"):
        return pids(rest)
    if matches(word, "exec"):
        return exec_in(rest)
    if matches(word, "show") or matches(word, "lst") or matches(word, "list"):
        return show(run.opts, rest)
    if matches(word, "help"):
        raise IprouteExit(USAGE, 255)
    raise IprouteExit(f'Command "{word}" is unknown, try "ip vrf help".', 255)


def vrfs() -> dict[str, tuple[int, int]]:
    """vrfs: VRF device name -> (ifindex, table) in this network namespace."""
    from pybpftool.netlink import Netlink

    found = {}
    with Netlink() as nl:
        for link in nl.links():
            if link.kind == "vrf":
                found[link.name] = (link.ifindex, _table(link.attrs))
    return found


def _table(attrs: dict[str, Any]) -> int:
    info = attrs.get("IFLA_LINKINFO")
    data = info.get("IFLA_INFO_DATA") if info is not None else None
    table = data.get("IFLA_VRF_TABLE") if data is not None else None
    return int(table or 0)


def show(opts: GlobalOptions, args: list[str]) -> int:
    if len(args) > 1:
        raise IprouteExit(USAGE, 255)
    if args:
        name = args[0]
        if name == "default":
            sys.stdout.write(f"default {RT_TABLE_MAIN}\n")
            return 0
        entry = vrfs().get(name)
        if entry is None:
            raise IprouteExit("Invalid VRF", 255)
        sys.stdout.write(f"{name} {entry[1]}\n")
        return 0
    found = vrfs()
    if opts.json:
        from pybpftool.cli.common import jsonw

        doc = [{"name": n, "table": t} for n, (_i, t) in sorted(found.items())]
        sys.stdout.write(jsonw.dumps(doc, pretty=opts.pretty) + "\n")
        return 0
    out = "Name              Table\n-----------------------\n"
    if not found:
        out += "No VRF has been configured\n"
    for name, (_index, table) in sorted(found.items()):
        out += f"{name:<16} {table:5}\n"
    sys.stdout.write(out)
    return 0


def identify(args: list[str]) -> int:
    """identify: the VRF of a process, from its controller-less cgroup (`.../vrf/NAME`)."""
    from pybpftool.cscan import c_unsigned

    if len(args) > 1:
        raise IprouteExit(invarg("Extra arguments specified", args[1]).message + "\n", 255)
    pid = c_unsigned(args[0], 10) if args else os.getpid()
    if pid is None:
        raise IprouteExit(invarg("Invalid pid", args[0]).message + "\n", 255)
    pid = pid - (1 << 32) if pid >= 1 << 31 else pid  # printed with %d
    try:
        with open(f"/proc/{pid}/cgroup", errors="surrogateescape") as f:
            lines = f.readlines()
    except OSError as err:
        raise IprouteExit(f"Failed to lookup vrf association: {err.strerror}", 1) from None
    for line in lines:
        if "::/" in line and "/vrf/" in line:
            name = line.split("/vrf/", 1)[1].split("\n", 1)[0]
            if name:
                sys.stdout.write(
                    name.encode("utf-8", "surrogateescape")[:31].decode("utf-8", "surrogateescape")
                    + "\n"
                )
            break
    return 0


def pids(args: list[str]) -> int:
    if len(args) != 1:
        raise IprouteExit("Invalid arguments", 1)
    name = args[0]
    if name not in vrfs():
        raise IprouteExit("Invalid VRF name", 1)
    from pybpftool.vrf import vrf_cgroup

    folder = vrf_cgroup(name)
    try:
        with open(os.path.join(folder, "cgroup.procs")) as f:
            members = [p.strip() for p in f if p.strip()]
    except OSError:
        return 0
    for pid in members:
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            comm = "<terminated?>"
        sys.stdout.write(f"{pid:>5}  {comm}\n")
    return 0


def exec_in(args: list[str]) -> int:
    if not args:
        raise IprouteExit("No VRF name specified", 1)
    if len(args) < 2:
        raise IprouteExit("No command specified", 1)
    name, command = args[0], args[1:]
    from pybpftool.kernel.bpf import Kernel
    from pybpftool.vrf import attach_to_cgroup, join_cgroup, load_sock_program, vrf_cgroup

    ifindex = 0
    if name != "default":
        found = vrfs().get(name)
        if found is None:
            raise IprouteExit("Invalid VRF name", 255)
        ifindex = found[0]
    folder = vrf_cgroup(name)
    os.makedirs(folder, mode=0o755, exist_ok=True)
    if ifindex:
        kernel = Kernel()
        with load_sock_program(kernel, ifindex) as prog:
            attach_to_cgroup(kernel, folder, prog)
    join_cgroup(folder)
    sys.stdout.flush()
    try:
        os.execvp(command[0], command)
    except OSError as err:
        raise IprouteExit(f'exec of "{command[0]}" failed: {err.strerror}', 1) from None
    return 0  # not reached
