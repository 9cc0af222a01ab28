"""fuzz_twins: two identical sandboxes, one for ip/tc 6.1 and one for pyip/pytc.

Each side has its own network namespace holding the veth pair v0 <-> v1 (fixed MACs, IPv6
off so no packet moves and every counter stays the same on both sides), a veth x0 whose peer
x1 lives in a third namespace of its own (`@ifN`, `link-netns`), and its own bpffs mounted on
a temporary folder (TC_BPF_MNT). Commands run with `-n NETNS` first, as a script would; what
differs by construction (namespace names, mount folders, program ids) is normalised before
comparing. Everything made here is removed by close(), also after a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 30  # seconds a line may take before it counts as hung


@dataclass(frozen=True)
class Outcome:
    status: int  # -1: timed out
    stdout: str
    stderr: str


@dataclass
class Side:
    name: str  # "theirs" or "ours"
    netns: str
    far: str  # the namespace holding x0's peer
    mnt: str
    tools: dict[str, list[str]]

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "TC_BPF_MNT": self.mnt, "COLORFGBG": ""}


def _sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, text=True)


def _netns_setup(ns: str, far: str) -> None:
    for name in (ns, far):
        _sh("ip", "netns", "add", name)
        _sh("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1")  # fmt: skip
    # x0's peer has the same ifindex in its namespace (the usual case for a fresh pair), z0's
    # another one
    for line in (
        "link add v0 address 02:00:00:00:00:01 type veth peer name v1 address 02:00:00:00:00:02",
        f"link add x0 index 9 address 02:00:00:00:00:09 type veth peer name x1 index 9 "
        f"address 02:00:00:00:01:09 netns {far}",
        f"link add z0 index 12 address 02:00:00:00:00:12 type veth peer name z1 index 7 "
        f"address 02:00:00:00:01:07 netns {far}",
        "link set v0 up",
        "link set v1 up",
        "link set x0 up",
    ):
        _sh("ip", "-n", ns, *line.split())


PRELOADED = ("maps.debug", "progs.debug")  # bpffs' own iterators (bpf_preload)


class Twins:
    """Twins: iproute2's side and pybpftool's, built alike; close() removes both."""

    def __init__(self, tag: str, py_bin: Path) -> None:
        self.sides: list[Side] = []
        self._mounts: list[str] = []
        self._namespaces: list[str] = []
        try:
            for name, tools in (
                ("theirs", {"ip": ["ip"], "tc": ["tc"]}),
                ("ours", {"ip": [str(py_bin / "pyip")], "tc": [str(py_bin / "pytc")]}),
            ):
                ns, far = f"pybpftool-fz{tag}-{name}", f"pybpftool-fz{tag}-{name}-far"
                self._namespaces += [ns, far]
                _netns_setup(ns, far)
                mnt = tempfile.mkdtemp(prefix="pybpftool-fuzz-bpffs-")
                _sh("mount", "-t", "bpf", "bpf", mnt)
                self._mounts.append(mnt)
                self.sides.append(Side(name, ns, far, mnt, tools))
        except BaseException:
            self.close()
            raise

    @property
    def theirs(self) -> Side:
        return self.sides[0]

    @property
    def ours(self) -> Side:
        return self.sides[1]

    def close(self) -> None:
        for mnt in self._mounts:
            subprocess.run(["umount", mnt], capture_output=True)
            os.rmdir(mnt)
        self._mounts.clear()
        for ns in self._namespaces:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self._namespaces.clear()


def reset_side(side: Side) -> None:
    """reset_side: a side back to the start: no XDP, no qdiscs, filters or actions, an
    empty bpffs."""
    script = "; ".join(
        [
            f"ip -n {side.netns} link set dev {dev} {mode} off 2>/dev/null"
            for dev in ("v0", "v1", "x0")
            for mode in ("xdpgeneric", "xdpdrv")
        ]
        + [
            f"tc -n {side.netns} qdisc del dev {dev} {where} 2>/dev/null"
            for dev in ("v0", "v1", "x0")
            for where in ("clsact", "ingress", "root")
        ]
        + [f"tc -n {side.netns} actions flush action mirred 2>/dev/null", "true"]
    )
    subprocess.run(["sh", "-c", script], capture_output=True)
    for entry in Path(side.mnt).iterdir():
        if entry.name in PRELOADED:
            continue
        if entry.is_symlink() or entry.is_file():
            entry.unlink()
        else:
            shutil.rmtree(entry)


def run(side: Side, words: list[str], stdin: str | None, tty: bool = False) -> Outcome:
    """run: one command line through `side`'s tool, with `-n NETNS` first; with `tty` on a
    terminal of its own (script(1)), where both its outputs go."""
    import shlex

    tool, *rest = words
    cmd = [*side.tools[tool], "-n", side.netns, *rest]
    if tty:
        cmd = ["script", "-qec", shlex.join(cmd), "/dev/null"]
    try:
        done = subprocess.run(
            cmd,
            input=stdin or "",
            capture_output=True,
            text=True,
            errors="surrogateescape",
            env=side.env,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as hung:
        return Outcome(-1, _text(hung.stdout), _text(hung.stderr))
    return Outcome(done.returncode, done.stdout, done.stderr)


def _text(data: bytes | str | None) -> str:
    if isinstance(data, bytes):
        return data.decode(errors="surrogateescape")
    return data or ""


def normalise(side: Side, text: str) -> str:
    """normalise: what differs between the twins by construction: namespace names, mount
    folders, program ids and load times, the ages of actions, the qdisc handles the kernel
    picks."""
    text = text.replace(side.far, "FAR").replace(side.netns, "NETNS").replace(side.mnt, "MNT")
    text = re.sub(r"\b(id|load_time|btf_id|prog_id|map_id) \d+", r"\1 N", text)
    text = re.sub(r'"(id|load_time|btf_id)": ?\d+', r'"\1":N', text)
    text = re.sub(r"\b(installed|used|firstused|expires) \d+ sec", r"\1 N sec", text)
    text = re.sub(r'"(installed|last_used|first_used|expires)": ?\d+', r'"\1":N', text)
    # qdisc handles the kernel picks (8001: up, one counter per namespace, so twins drift)
    text = re.sub(r"\b8[0-9a-f]{3}:", "AUTO:", text)
    # the machine's other namespaces: a /var/run/netns file that `ip netns add` elsewhere has
    # made but not yet mounted is refused by RTM_GETNSID, and both tools say so on the side
    # that happened to look at that moment
    return text.replace("Error: Peer netns reference is invalid.\n", "")


STATE_COMMANDS = [
    "ip -j -d link show",
    "tc -j qdisc show",
    *[f"tc -j filter show dev {d} {p}" for d in ("v0", "v1") for p in ("ingress", "egress")],
    *[f"tc -j chain show dev v0 {p}" for p in ("ingress", "egress")],
    "tc -j actions ls action mirred",
]
SEPARATOR = "\n--8<--\n"


def kernel_state(side: Side) -> dict[str, object]:
    """kernel_state: what the kernel and the bpffs hold on `side`, read with iproute2 and
    bpftool themselves (never with the tool under test): XDP per link (mode, program name
    and tag), qdiscs, filters with their flags, chains, mirred actions, the pins."""
    script = "; ".join(f"{cmd} 2>&1; echo '--8<--'" for cmd in STATE_COMMANDS)
    done = subprocess.run(
        ["ip", "netns", "exec", side.netns, "sh", "-c", script],  # one namespace switch
        capture_output=True,
        text=True,
        env=side.env,
    )
    parts = done.stdout.split("--8<--\n")
    state: dict[str, object] = {}
    for cmd, text in zip(STATE_COMMANDS, parts, strict=False):
        state[cmd] = _links(text) if cmd.startswith("ip ") else normalise(side, text)
    state["bpffs"] = bpffs_tree(side.mnt)
    state["jmp_tc"] = prog_array_slots(Path(side.mnt) / "tc/globals/jmp_tc")
    return state


def _links(text: str) -> object:
    try:
        links = json.loads(text)
    except ValueError:
        return text
    out = {}
    for link in links:
        xdp = link.get("xdp")
        if xdp is not None:
            xdp = [(a["mode"], a["prog"]["name"], a["prog"]["tag"]) for a in xdp["attached"]]
        out[link["ifname"]] = (link["flags"], link.get("mtu"), xdp)
    return out


def bpffs_tree(mnt: str) -> list[str]:
    """bpffs_tree: every folder, pin and symlink below the bpffs mount, as relative paths."""
    found = []
    for root, dirs, files in os.walk(mnt):
        for name in sorted(dirs + files):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, mnt)
            if os.path.islink(path):
                found.append(f"{rel} -> {os.readlink(path).replace(mnt, 'MNT')}")
            else:
                found.append(rel + ("/" if os.path.isdir(path) else ""))
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
    return sorted(found)


def prog_array_slots(pin: Path) -> object:
    """prog_array_slots: name and tag of each program in a pinned program array."""
    if not pin.exists():
        return None
    dump = subprocess.run(
        ["bpftool", "-j", "map", "dump", "pinned", str(pin)], capture_output=True, text=True
    )
    if dump.returncode:
        return dump.stderr.strip()
    slots = []
    for entry in json.loads(dump.stdout or "[]"):
        value = entry.get("value")
        if not isinstance(value, list):
            continue
        prog_id = int.from_bytes(bytes(int(b, 16) for b in value), "little")
        shown = subprocess.run(
            ["bpftool", "-j", "prog", "show", "id", str(prog_id)], capture_output=True, text=True
        )
        prog = json.loads(shown.stdout or "{}")
        slots.append((prog.get("name"), prog.get("tag")))
    return slots
