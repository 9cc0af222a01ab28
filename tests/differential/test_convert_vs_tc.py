"""`pybpftool object convert` against the real tools: distro tc and ip (iproute2 6.1, libbpf
1.1.2) load the converted object and end up with what pybpftool's loader makes of the
original.

For every legacy object of tests/bpf and examples/ and for the iproute2-style objects of
tests/bpf/iproute2: pybpftool's loader (what pytc and pyip run) loads the original with one
private bpffs; distro tc (or ip) loads and attaches the `--tail-calls graft` conversion with
another, then `tc exec bpf graft` fills its prog arrays as the converter says. Both loads are
then walked through the kernel (bpftool): each program's name and tag, each map's shape, each
prog-array slot's program (recursively) and each map-in-map slot's map must be equal, and the
PIN_GLOBAL_NS maps pinned at the same paths. `bpftool prog loadall` must load the
`--tail-calls static` conversion with the same programs in its slots, and pybpftool's loader
must make of that conversion what it makes of the original.

Our side is loaded in this process and walked while its fds are open: the kernel empties a
prog array when the last process holding it lets go, unless it is pinned (so, under iproute2
too, an unpinned legacy prog array is empty once `tc` has exited; graft pins it).
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import bpfobjs
import pytest
from mounts import private_bpffs

from pybpftool.convert import ConvertOptions, Graft, PinChoice, TailCallMode, convert_object
from pybpftool.errors import VerifierError
from pybpftool.kernel.bpf import Kernel
from pybpftool.loader import LoadedObject, LoadOptions, load_object
from pybpftool.parser import parse_object
from pybpftool.spec import Pinning
from pybpftool.uapi import BpfProgType

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
GRAFT = ConvertOptions(PinChoice.GLOBAL, PinChoice.GLOBAL, TailCallMode.GRAFT)
STATIC = ConvertOptions(PinChoice.GLOBAL, PinChoice.GLOBAL, TailCallMode.STATIC)
BPFFS_OWN = frozenset({"maps.debug", "progs.debug"})
PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
SCHED_CLS, XDP = BpfProgType.BPF_PROG_TYPE_SCHED_CLS, BpfProgType.BPF_PROG_TYPE_XDP


class Case(NamedTuple):
    """Case: an object, the sections to attach (tc: (section, ingress|egress); ip: xdp)."""

    name: str
    build: Callable[[], Path]
    sections: tuple[tuple[str, str], ...]
    bpftool_type: str = "classifier"


def compiled(name: str, *flags: str) -> Callable[[], Path]:
    return lambda: bpfobjs.build(name, HOST, *flags)


def example(name: str) -> Callable[[], Path]:
    return lambda: bpfobjs.build_example(name, HOST)


CASES = [
    Case("legacy_maps", compiled("legacy_maps"), (("classifier", "ingress"),)),
    Case("legacy_mapdef", compiled("legacy_mapdef"), (("socket", "ingress"),), "socket"),
    Case("mixed_maps", compiled("mixed_maps"), (("ingress", "ingress"),)),
    # legacy and BTF map-in-map side by side: both kinds of static slot in one `.rel.maps`
    Case("mixed_slots", compiled("mixed_maps", "-DWITH_SLOTS"), (("ingress", "ingress"),)),
    Case("twin_legacy", compiled("twin_legacy"), (("classifier", "ingress"),)),
    # built without -g: the conversion makes the only BTF the object has
    Case("twin_legacy_nobtf", compiled("twin_legacy", "-g0"), (("classifier", "ingress"),)),
    Case("tc_tail_calls", example("tc_tail_calls"), (("classifier", "egress"),)),
    Case("tc_legacy_pinned", example("tc_legacy_pinned"), (("classifier", "ingress"),)),
    Case("tailcall", compiled("iproute2/tailcall"), (("classifier", "ingress"),)),
    Case("cyclic", compiled("iproute2/cyclic"), (("classifier", "ingress"),)),
    Case("map_in_map", compiled("iproute2/map_in_map"), (("classifier", "ingress"),)),
    Case(
        "shared",
        compiled("iproute2/shared"),
        (("ingress", "ingress"), ("egress", "egress")),
    ),
    Case("xdp", compiled("iproute2/xdp"), (("prog", "xdp"),), "xdp"),
]


def run(*cmd: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, f"{' '.join(cmd)}: {done.stderr}"
    return done.stdout


def bpftool(*args: str) -> Any:
    return json.loads(run("bpftool", "-j", *args))


def pins(root: str) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in Path(root).rglob("*")
        if not p.is_symlink() and not p.is_dir() and p.name not in BPFFS_OWN
    }


# --- what the kernel holds -------------------------------------------------------------


def slots(map_id: int) -> dict[int, int]:
    """slots: key -> value of a map whose keys and values are u32 (ids, for these maps)."""
    out = {}
    for entry in bpftool("map", "dump", "id", str(map_id)):
        key = bytes(int(b, 16) for b in entry["key"])
        value = bytes(int(b, 16) for b in entry["value"])
        out[int.from_bytes(key, sys.byteorder)] = int.from_bytes(value, sys.byteorder)
    return out


def map_node(map_id: int, seen: dict[int, str]) -> dict[str, Any]:
    m = bpftool("map", "show", "id", str(map_id))
    node: dict[str, Any] = {
        "type": m["type"],
        "key": m["bytes_key"],
        "value": m["bytes_value"],
        "max_entries": m["max_entries"],
        "flags": m["flags"],
    }
    if m["type"] == "prog_array":
        node["slots"] = {k: prog_node(v, seen) for k, v in slots(map_id).items()}
    elif m["type"] in ("array_of_maps", "hash_of_maps"):
        node["slots"] = {k: inner_node(v) for k, v in slots(map_id).items()}
    return node


def inner_node(map_id: int) -> tuple[object, ...]:
    m = bpftool("map", "show", "id", str(map_id))
    return (m.get("name", ""), m["type"], m["bytes_key"], m["bytes_value"], m["max_entries"])


def prog_node(prog_id: int, seen: dict[int, str] | None = None) -> dict[str, Any]:
    """prog_node: a program, the maps it uses and, through prog arrays, the programs it
    reaches, as the kernel shows them (a program met again is named, not walked: cycles)."""
    seen = {} if seen is None else seen
    p = bpftool("prog", "show", "id", str(prog_id))
    if prog_id in seen:
        return {"again": p["name"], "tag": p["tag"]}
    seen[prog_id] = p["name"]
    maps = {}
    for map_id in p.get("map_ids", []):
        name = bpftool("map", "show", "id", str(map_id)).get("name", "")
        maps[name] = map_node(map_id, seen)
    return {"name": p["name"], "tag": p["tag"], "maps": maps}


def map_ids_of(prog_id: int) -> dict[str, int]:
    p = bpftool("prog", "show", "id", str(prog_id))
    return {bpftool("map", "show", "id", str(i)).get("name", ""): i for i in p.get("map_ids", [])}


# --- the loads ------------------------------------------------------------------------


def attached(netns: str, dev: str, where: str, pref: int) -> int:
    """attached: the id of the program attached to `dev` at `where` (ingress, egress, xdp)."""
    if where == "xdp":
        (link,) = json.loads(run("ip", "-n", netns, "-j", "link", "show", "dev", dev))
        return int(link["xdp"]["prog"]["id"])
    cmd = ("tc", "-n", netns, "-j", "filter", "show", "dev", dev, where, "pref", str(pref))
    shown = json.loads(run(*cmd))
    return int(next(f["options"]["prog"]["id"] for f in shown if "options" in f))


def distro_attach(netns: str, obj: Path, section: str, where: str, pref: int, mnt: str) -> int:
    """distro_attach: load and attach with the distro's tc or ip on v1; the program's id."""
    env = {"TC_BPF_MNT": mnt, "PATH": PATH}
    if where == "xdp":
        tail = ["ip", "link", "set", "dev", "v1", "xdp", "obj", str(obj), "sec", section]
    else:
        tail = ["tc", "filter", "add", "dev", "v1", where, "pref", str(pref), "bpf", "da"]
        tail += ["obj", str(obj), "sec", section]
    run("ip", "netns", "exec", netns, *tail, env=env)
    return attached(netns, "v1", where, pref)


def graft(netns: str, mnt: str, obj: Path, map_name: str, key: int, section: str) -> None:
    env = {"TC_BPF_MNT": mnt, "PATH": PATH}
    cmd = ["ip", "netns", "exec", netns, "tc", "exec", "bpf", "graft", f"m:globals/{map_name}"]
    run(*cmd, "key", str(key), "obj", str(obj), "sec", section, env=env)


@contextlib.contextmanager
def loaded(obj: Path, case: Case, mnt: str) -> Iterator[list[int]]:
    """loaded: pybpftool's loader on `obj`, a load per section as tc or ip would do it; the
    main programs' ids while the loads are open."""
    xdp = case.sections[0][1] == "xdp"
    options = LoadOptions(
        prog_type=XDP if xdp else SCHED_CLS, subdir="xdp" if xdp else "tc", env={"TC_BPF_MNT": mnt}
    )
    loads: list[LoadedObject] = []
    try:
        for section, _where in case.sections:
            loads.append(
                load_object(Kernel(), parse_object(obj), options._replace(section=section))
            )
            loads[-1].commit()
        yield [Kernel().prog_info(lo.main.fd).id for lo in loads if lo.main is not None]
    finally:
        for lo in loads:
            lo.close()


@pytest.fixture
def clsact(netns: str) -> str:
    run("tc", "-n", netns, "qdisc", "add", "dev", "v1", "clsact")
    return netns


def case_objects(case: Case, tmp_path: Path) -> tuple[Path, Path, Path, tuple[Graft, ...]]:
    """case_objects: the original, its graft and static conversions, and the grafts."""
    original = tmp_path / f"{case.name}.o"
    original.write_bytes(case.build().read_bytes())
    graft_conv = convert_object(original.read_bytes(), GRAFT)
    grafted, static = tmp_path / f"{case.name}-graft.o", tmp_path / f"{case.name}-static.o"
    grafted.write_bytes(graft_conv.output())
    static.write_bytes(convert_object(original.read_bytes(), STATIC).output())
    return original, grafted, static, graft_conv.grafts


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_distro_tool_loads_the_conversion_like_ours_loads_the_original(
    case: Case, clsact: str, bpffs: str, tmp_path: Path
) -> None:
    original, grafted, _static, grafts = case_objects(case, tmp_path)
    with loaded(original, case, bpffs) as ours, private_bpffs("pybpftool-convert-") as theirs_mnt:
        mine = [prog_node(i) for i in ours]
        ids = [
            distro_attach(clsact, grafted, section, where, pref, theirs_mnt)
            for pref, (section, where) in enumerate(case.sections, start=1)
        ]
        for g in grafts:
            graft(clsact, theirs_mnt, grafted, g.map, g.key, g.section)
        assert [prog_node(i) for i in ids] == mine
        global_pins = {
            f"tc/globals/{m.name}"
            for m in parse_object(original).maps
            if m.pinning is Pinning.GLOBAL_NS
        }
        assert {p for p in pins(bpffs) if p.startswith("tc/globals/")} == global_pins
        assert pins(theirs_mnt) == {
            f"tc/globals/{m.name}"
            for m in parse_object(grafted).maps
            if m.pinning is Pinning.BY_NAME
        }
        assert global_pins <= pins(theirs_mnt)
        if len(ids) > 1:  # two filters from one object share its pinned map, in both worlds
            assert len({tuple(map_ids_of(i).values()) for i in ids}) == 1
            assert len({tuple(map_ids_of(i).values()) for i in ours}) == 1


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_our_loader_makes_the_same_of_the_conversion(
    case: Case, bpffs: str, tmp_path: Path
) -> None:
    original, _grafted, static, _grafts = case_objects(case, tmp_path)
    with loaded(original, case, bpffs) as ours:
        mine = [prog_node(i) for i in ours]
        mine_pins = pins(bpffs)
    with private_bpffs("pybpftool-convert-") as other, loaded(static, case, other) as again:
        assert [prog_node(i) for i in again] == mine
        assert {p for p in mine_pins if p.startswith("tc/globals/")} <= pins(other)


def without_prog_slots(node: Any) -> Any:
    """without_prog_slots: `node` with the slots of its prog arrays left out."""
    if isinstance(node, dict):
        if node.get("type") == "prog_array":
            return {k: v for k, v in node.items() if k != "slots"}
        return {k: without_prog_slots(v) for k, v in node.items()}
    return node


def prog_slots(node: Any, found: dict[str, dict[int, str]]) -> dict[str, dict[int, str]]:
    """prog_slots: map name -> key -> program name, for every prog array reached."""
    for name, m in node.get("maps", {}).items():
        if m["type"] == "prog_array":
            for key, prog in m["slots"].items():
                found.setdefault(name, {})[key] = prog.get("name") or prog["again"]
                prog_slots(prog, found)
    return found


def tags(node: Any, found: dict[str, str]) -> dict[str, str]:
    """tags: program name -> tag, for the program and every one it reaches."""
    found[node.get("name") or node["again"]] = node["tag"]
    for m in node.get("maps", {}).values():
        if m["type"] == "prog_array":
            for prog in m["slots"].values():
                tags(prog, found)
    return found


SLOT_SET = re.compile(r"libbpf: map '(\w+)': slot \[(\d+)\] set to prog '(\w+)'")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bpftool_loadall_loads_the_static_conversion(
    case: Case, bpffs: str, tmp_path: Path
) -> None:
    """bpftool (libbpf 1.1.2) pins maps by name under /sys/fs/bpf, so it runs in a mount
    namespace of its own with a new bpffs there (never the host's), which keeps its programs
    pinned while the test walks them. bpftool exits after loading, so the kernel has emptied
    its (unpinned) prog arrays by then: libbpf's own lines say which program it put in which
    slot, and the pinned programs' tags say they are ours."""
    original, _grafted, static, _grafts = case_objects(case, tmp_path)
    with loaded(original, case, bpffs) as ours:
        mine = prog_node(ours[0])
    log = tmp_path / "bpftool.log"
    script = (
        "set -e; mount -t bpf bpf /sys/fs/bpf; "
        f"bpftool -d prog loadall {static} /sys/fs/bpf/p type {case.bpftool_type} 2> {log}; "
        'for f in /sys/fs/bpf/p/*; do bpftool -j prog show pinned "$f"; done; '
        "echo END; read _"
    )
    shell = subprocess.Popen(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert shell.stdout is not None
        progs = {}
        for line in iter(shell.stdout.readline, "END\n"):
            assert line, log.read_text() if log.exists() else "bpftool did not run"
            if not line.strip():
                continue
            info = json.loads(line)
            progs[info["name"]] = info
        theirs = prog_node(progs[mine["name"]]["id"])
        assert without_prog_slots(theirs) == without_prog_slots(mine)
        assert {name: progs[name]["tag"] for name in tags(mine, {})} == tags(mine, {})
        set_slots: dict[str, dict[int, str]] = {}
        for map_name, key, prog in SLOT_SET.findall(log.read_text()):
            set_slots.setdefault(map_name, {})[int(key)] = prog
        assert set_slots == prog_slots(mine, {})
    finally:
        shell.kill()
        shell.wait()


def distro_tc_add(netns: str, obj: Path, mnt: str) -> subprocess.CompletedProcess[str]:
    env = {"TC_BPF_MNT": mnt, "PATH": PATH}
    cmd = ["ip", "netns", "exec", netns, "tc", "filter", "add", "dev", "v1", "ingress"]
    cmd += ["bpf", "da", "obj", str(obj), "sec", "classifier"]
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def test_distro_tc_cannot_load_a_prog_array_initialised_with_other_programs(
    clsact: str, bpffs: str, tmp_path: Path
) -> None:
    """Why `--tail-calls` has no default: iproute2 6.1's libbpf path turns autoload off for
    every program but the attached one (lib/bpf_libbpf.c load_bpf_object), so libbpf cannot
    fill a static slot with a tail-call target, and the whole load fails."""
    _original, _grafted, static, _grafts = case_objects(
        next(c for c in CASES if c.name == "tailcall"), tmp_path
    )
    done = distro_tc_add(clsact, static, bpffs)
    assert done.returncode == 1
    assert "libbpf: map 'jmp_main': failed to initialize slot [0] to prog 'hop_first'" in (
        done.stderr
    )
    assert pins(bpffs) == set()  # libbpf unpins what it pinned when the load fails


def test_an_object_the_verifier_rejects_is_rejected_both_ways(
    clsact: str, bpffs: str, tmp_path: Path
) -> None:
    case = Case("rejected", compiled("rejected"), (("classifier", "ingress"),))
    original, grafted, _static, _grafts = case_objects(case, tmp_path)
    with pytest.raises(VerifierError), loaded(original, case, bpffs):
        pass
    assert pins(bpffs) == set()  # pybpftool's loader leaves nothing behind
    with private_bpffs("pybpftool-convert-") as theirs:
        done = distro_tc_add(clsact, grafted, theirs)
        assert done.returncode == 1 and "Unable to load program" in done.stderr
        assert "invalid mem access 'map_value_or_null'" in done.stderr
        assert pins(theirs) == set()  # libbpf unpins what it pinned when the load fails
