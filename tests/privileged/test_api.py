"""The Python API on the real kernel: loads with iproute2's rules, maps read and written, XDP
and cls_bpf attached in a test namespace and detached, every failure clean, and the calling
thread never moved out of its own network namespace (the fixtures' namespace and private
bpffs keep everything away from the host)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import bpfobjs
import pytest

import pybpftool
from pybpftool.errors import NetlinkFailure

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
THREAD_NETNS = "/proc/thread-self/ns/net"


def legacy(bpffs: str) -> pybpftool.Collection:
    obj = str(bpfobjs.build("legacy_maps", HOST))
    return pybpftool.load(obj, prog_type="sched_cls", pin_root=bpffs)


def xdp(bpffs: str, section: str = "xdp") -> pybpftool.Collection:
    obj = str(bpfobjs.build("xdp_pass", HOST))
    return pybpftool.load(obj, section=section, prog_type="xdp", pin_root=bpffs)


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def tc(netns: str, *args: str) -> str:
    return subprocess.run(
        ["tc", "-n", netns, *args], capture_output=True, text=True, check=True
    ).stdout


def xdp_ids(netns: str, dev: str = "v0") -> dict[str, int]:
    """xdp_ids: ip's view of the device's XDP programs: attach mode -> program id."""
    out = subprocess.run(
        ["ip", "-n", netns, "-j", "-d", "link", "show", "dev", dev],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = json.loads(out)[0].get("xdp", {})
    names = {1: "xdp", 2: "xdpgeneric", 3: "xdpoffload"}  # XDP_ATTACHED_*
    return {names[a["mode"]]: a["prog"]["id"] for a in found.get("attached", [])}


@pytest.fixture
def same_netns() -> Iterator[None]:
    """same_netns: the test's thread ends in the network namespace it started in."""
    before = os.readlink(THREAD_NETNS)
    yield
    assert os.readlink(THREAD_NETNS) == before


def test_load_follows_iproute2_and_matches_the_kernel(bpffs: str) -> None:
    fds = open_fds()
    with legacy(bpffs) as obj:
        assert obj.program is obj.programs["cls_entry"]
        assert set(obj.programs) == {"cls_entry", "tail_zero", "tail_one"}  # 99/0 has no array
        assert set(obj.maps) == {
            "counters",
            "per_object",
            "custom_pin",
            "jmp_tc",
            "map_inner",
            "map_outer",
        }
        counters = obj.maps["counters"]
        assert counters.pin_path == f"{bpffs}/tc/globals/counters"
        assert obj.maps["per_object"].pin_path == f"{bpffs}/tc/{obj_sha1()}/per_object"
        assert obj.maps["jmp_tc"].pin_path is None
        for prog in obj.programs.values():
            shown = bpftool("prog", "show", "id", str(prog.id))
            assert (shown["tag"], shown["name"], prog.type) == (prog.tag, prog.name, "sched_cls")
        shown = bpftool("map", "show", "pinned", counters.pin_path)
        assert (shown["id"], shown["name"], shown["type"]) == (counters.id, "counters", "hash")
        assert (counters.key_size, counters.value_size, counters.max_entries) == (4, 8, 256)
        fd = obj.program.fd
        assert os.path.exists(f"/proc/self/fd/{fd}")
    assert obj.closed and open_fds() == fds
    with pytest.raises(ValueError, match="closed"):
        obj.program.fd  # noqa: B018
    with pytest.raises(pybpftool.UsageError, match="cls_entry: its Collection is closed"):
        pybpftool.attach_tc("v0", "ingress", obj.program)
    assert Path(bpffs, "tc/globals/counters").exists()  # pins persist as the object declares


def obj_sha1() -> str:
    import hashlib

    return hashlib.sha1(bpfobjs.build("legacy_maps", HOST).read_bytes()).hexdigest()


def bpftool(*args: str) -> dict:  # type: ignore[type-arg]
    out = subprocess.run(["bpftool", "-j", *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_maps_read_and_write_through_the_kernel(bpffs: str) -> None:
    with legacy(bpffs) as obj:
        counters = obj.maps["counters"]
        assert list(counters.items()) == []
        key, value = (7).to_bytes(4, sys.byteorder), (41).to_bytes(8, sys.byteorder)
        counters.update(key, value)
        assert counters.lookup(key) == value
        assert counters.lookup(bytes(4)) is None
        with pytest.raises(pybpftool.KernelError) as exists:
            counters.update(key, value, flags=1)  # BPF_NOEXIST
        assert exists.value.errno == errno.EEXIST
        assert list(counters.items()) == [(key, value)]
        with pytest.raises(pybpftool.UsageError, match="a key has 4 bytes, not 2"):
            counters.lookup(b"ab")
        with pytest.raises(pybpftool.UsageError, match="a value has 8 bytes, not 4"):
            counters.update(key, bytes(4))
        assert counters.delete(key) and not counters.delete(key)
        shown = subprocess.run(
            ["bpftool", "-j", "map", "dump", "pinned", str(counters.pin_path)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(shown.stdout) == []
    with xdp(bpffs) as obj:  # a BTF array: every slot there from the start
        hits = obj.maps["xdp_hits"]
        assert [k for k, _ in hits.items()] == [bytes(4)]


def test_a_second_load_shares_the_pinned_map(bpffs: str) -> None:
    with legacy(bpffs) as first, legacy(bpffs) as second:
        one, two = first.maps["counters"], second.maps["counters"]
        assert one.id == two.id
        one.update(bytes(4), (5).to_bytes(8, sys.byteorder))
        assert two.lookup(bytes(4)) == (5).to_bytes(8, sys.byteorder)


def test_a_rejected_program_comes_back_with_its_log_and_leaves_nothing(bpffs: str) -> None:
    fds = open_fds()
    obj = str(bpfobjs.build("rejected", HOST))
    with pytest.raises(pybpftool.VerifierError) as rejected:
        pybpftool.load(obj, prog_type="sched_cls", pin_root=bpffs)
    assert "invalid mem access 'map_value_or_null'" in rejected.value.log
    assert rejected.value.errno == errno.EACCES
    assert not Path(bpffs, "tc/globals/doomed").exists()
    assert open_fds() == fds


def test_attach_tc_in_a_namespace_then_replace_and_detach(
    netns: str, bpffs: str, same_netns: None
) -> None:
    assert "clsact" not in tc(netns, "qdisc", "show", "dev", "v0")
    with legacy(bpffs) as obj, legacy(bpffs) as newer:
        placed = pybpftool.attach_tc("v0", "ingress", obj.program, netns=netns)
        assert placed.prog_id == obj.program.id and placed.pref and placed.handle
        shown = tc(netns, "filter", "show", "dev", "v0", "ingress")
        name = f"{bpfobjs.build('legacy_maps', HOST).name}:[classifier]"
        assert f"handle {placed.handle:#x} {name} direct-action" in shown
        assert f"id {obj.program.id} name cls_entry" in shown
        with pytest.raises(NetlinkFailure) as twice:
            pybpftool.attach_tc(
                "v0", "ingress", obj.program, pref=placed.pref, handle=placed.handle, netns=netns
            )
        assert twice.value.errno == errno.EEXIST
        again = pybpftool.attach_tc(
            "v0",
            "ingress",
            newer.program,
            pref=placed.pref,
            handle=placed.handle,
            replace=True,
            netns=netns,
        )
        assert again == placed._replace(prog_id=newer.program.id)
        assert f"id {newer.program.id} name" in tc(netns, "filter", "show", "dev", "v0", "ingress")
        egress = pybpftool.attach_tc(
            "v0", "egress", obj.program, pref=3, handle=9, direct_action=False, netns=netns
        )
        assert (egress.pref, egress.handle) == (3, 9)
        assert "direct-action" not in tc(netns, "filter", "show", "dev", "v0", "egress")
    # Filters keep their programs when the collections close.
    assert "name cls_entry" in tc(netns, "filter", "show", "dev", "v0", "ingress")
    pybpftool.detach_tc("v0", "ingress", pref=placed.pref, handle=placed.handle, netns=netns)
    assert tc(netns, "filter", "show", "dev", "v0", "ingress") == ""
    pybpftool.detach_tc("v0", "egress", netns=netns)  # every filter of the hook
    assert tc(netns, "filter", "show", "dev", "v0", "egress") == ""
    assert "qdisc clsact" in tc(netns, "qdisc", "show", "dev", "v0")


def test_attach_tc_removes_the_clsact_it_made_when_the_filter_fails(
    netns: str, bpffs: str, monkeypatch: pytest.MonkeyPatch, same_netns: None
) -> None:
    from pybpftool.netlink import Netlink

    def refuse(self: Netlink, *args: object, **kw: object) -> None:
        raise NetlinkFailure(errno.EPERM, "Operation not permitted")

    with legacy(bpffs) as obj, monkeypatch.context() as patch:
        patch.setattr(Netlink, "filter", refuse)
        with pytest.raises(NetlinkFailure):
            pybpftool.attach_tc("v0", "ingress", obj.program, netns=netns)
        assert "clsact" not in tc(netns, "qdisc", "show", "dev", "v0")
        tc(netns, "qdisc", "add", "dev", "v0", "clsact")  # one that is not ours stays
        with pytest.raises(NetlinkFailure):
            pybpftool.attach_tc("v0", "egress", obj.program, netns=netns)
        assert "qdisc clsact" in tc(netns, "qdisc", "show", "dev", "v0")


def test_programs_by_pin_and_their_types_checked(
    netns: str, bpffs: str, same_netns: None
) -> None:
    with legacy(bpffs) as obj, xdp(bpffs) as fast:
        obj.program.pin(f"{bpffs}/cls")
        fast.program.pin(Path(bpffs, "fast"))
        with pytest.raises(pybpftool.UsageError, match="program xdp_count is xdp, not sched_cls"):
            pybpftool.attach_tc("v0", "ingress", fast.program, netns=netns)
        with pytest.raises(pybpftool.UsageError, match="cls_entry is sched_cls, not xdp"):
            pybpftool.attach_xdp("v0", obj.program, netns=netns)
        assert "clsact" not in tc(netns, "qdisc", "show", "dev", "v0")  # refused before
    placed = pybpftool.attach_tc("v0", "ingress", f"{bpffs}/cls", netns=netns)
    assert "cls:[*fsobj]" in tc(netns, "filter", "show", "dev", "v0", "ingress")
    pybpftool.attach_xdp("v1", Path(bpffs, "fast"), netns=netns)
    assert set(xdp_ids(netns, "v1")) == {"xdp"}
    with pytest.raises(pybpftool.UsageError, match="fast is xdp, not sched_cls"):
        pybpftool.attach_tc("v0", "ingress", f"{bpffs}/fast", netns=netns)
    with pytest.raises(pybpftool.PinError, match="counters is not a pinned program"):
        pybpftool.attach_xdp("v1", f"{bpffs}/tc/globals/counters", netns=netns)
    with pytest.raises(pybpftool.PinError, match=r"cannot open pinned program .*: No such file"):
        pybpftool.attach_xdp("v1", f"{bpffs}/nothing", netns=netns)
    pybpftool.detach_tc("v0", "ingress", pref=placed.pref, netns=netns)
    assert pybpftool.detach_xdp("v1", netns=netns)


def test_attach_xdp_modes_replace_and_detach(netns: str, bpffs: str, same_netns: None) -> None:
    with xdp(bpffs) as first, xdp(bpffs, "prog") as second:
        pybpftool.attach_xdp("v0", first.program, netns=netns)
        assert xdp_ids(netns) == {"xdp": first.program.id}  # auto: native on veth
        with pytest.raises(NetlinkFailure) as busy:
            pybpftool.attach_xdp("v0", second.program, netns=netns)
        assert busy.value.errno == errno.EBUSY
        pybpftool.attach_xdp("v0", second.program, replace=True, netns=netns)
        assert xdp_ids(netns) == {"xdp": second.program.id}
        assert pybpftool.detach_xdp("v0", netns=netns)
        assert xdp_ids(netns) == {} and not pybpftool.detach_xdp("v0", netns=netns)
        pybpftool.attach_xdp("v0", first.program, mode="generic", netns=netns)
        assert xdp_ids(netns) == {"xdpgeneric": first.program.id}
        with pytest.raises(NetlinkFailure):  # native and generic cannot be active at once
            pybpftool.attach_xdp("v0", second.program, mode="driver", netns=netns)
        assert pybpftool.detach_xdp("v0", netns=netns)
        assert xdp_ids(netns) == {}
        # A veth offloads nothing, and load() binds no program to a device: refused, and
        # nothing attached.
        with pytest.raises(NetlinkFailure) as offload:
            pybpftool.attach_xdp("v0", first.program, mode="offload", netns=netns)
        assert offload.value.errno == errno.EINVAL
        assert xdp_ids(netns) == {}


def test_namespaces_by_path_and_every_failure_leaves_the_thread_home(
    netns: str, bpffs: str, same_netns: None
) -> None:
    with xdp(bpffs) as obj:
        pybpftool.attach_xdp("v0", obj.program, netns=f"/run/netns/{netns}")
        assert pybpftool.detach_xdp("v0", netns=f"/var/run/netns/{netns}")
        with pytest.raises(pybpftool.LinkNotFound, match='Cannot find device "nope0"'):
            pybpftool.attach_xdp("nope0", obj.program, netns=netns)
        with pytest.raises(pybpftool.KernelError, match="Cannot open network namespace"):
            pybpftool.attach_xdp("v0", obj.program, netns=f"{netns}-missing")
        with pytest.raises(pybpftool.KernelError, match="setting the network namespace") as bad:
            pybpftool.detach_xdp("v0", netns="/etc/hostname")  # opens, but is no namespace
        assert bad.value.errno == errno.EINVAL


def test_a_worker_thread_and_the_main_thread_both_stay_where_they_were(
    netns: str, bpffs: str, same_netns: None
) -> None:
    seen: list[object] = []

    def work() -> None:
        before = os.readlink(THREAD_NETNS)
        try:
            with xdp(bpffs) as obj:
                pybpftool.attach_xdp("v0", obj.program, netns=netns)
                seen.append(pybpftool.detach_xdp("v0", netns=netns))
        except Exception as err:  # reported to the main thread
            seen.append(err)
        seen.append(os.readlink(THREAD_NETNS) == before)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert seen == [True, True]


def test_without_pin_root_pins_go_beneath_tc_bpf_mnt_and_btf_maps_pin_by_name(
    bpffs: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pin_root=None is iproute2's default: $TC_BPF_MNT (the host's /sys/fs/bpf otherwise,
    which tests never write). A BTF map pinned by name lands in tc/globals, as tc's libbpf
    path puts it; a per-CPU value is one 8-byte slot per possible CPU."""
    monkeypatch.setenv("TC_BPF_MNT", bpffs)
    obj = str(bpfobjs.build("btf_maps", HOST))
    with pybpftool.load(obj) as loaded:  # SEC("tc") names its type: no prog_type needed
        assert loaded.program.type == "sched_cls"
        flows = loaded.maps["flows"]
        assert flows.pin_path == f"{bpffs}/tc/globals/flows"
        assert (flows.type, flows.key_size, flows.value_size) == ("hash", 16, 16)
        assert bpftool("map", "show", "pinned", flows.pin_path)["id"] == flows.id
        sized = loaded.maps["sized"]
        value = sized.lookup(bytes(4))
        assert value is not None and len(value) == 8 * pybpftool.api.objects.possible_cpus()
        assert loaded.maps["bloom"].pin_path is None
