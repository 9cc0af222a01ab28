"""The Python API used wrongly on purpose: a closed Collection, keys of the wrong type, bad
namespaces, devices that do not exist, detaching what is not there. Each is a PyBpfError
subclass with a message naming the problem, and none leaves a pin, a qdisc or a filter
behind, or the calling thread in another namespace."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import bpfobjs
import pytest

import pybpftool

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
THREAD_NETNS = "/proc/thread-self/ns/net"


def legacy(bpffs: str) -> pybpftool.Collection:
    obj = str(bpfobjs.build("legacy_maps", HOST))
    return pybpftool.load(obj, prog_type="sched_cls", pin_root=bpffs)


def pins(bpffs: str) -> list[str]:
    return sorted(str(p.relative_to(bpffs)) for p in Path(bpffs).rglob("*"))


def tc(netns: str, *args: str) -> str:
    return subprocess.run(
        ["tc", "-n", netns, *args], capture_output=True, text=True, check=True
    ).stdout


def tc_state(netns: str) -> tuple[str, ...]:
    """tc_state: every qdisc and filter of the test namespace's veth pair."""
    shown = [tc(netns, "qdisc", "show")]
    for dev in ("v0", "v1"):
        shown += [tc(netns, "filter", "show", "dev", dev, hook) for hook in ("ingress", "egress")]
    return tuple(shown)


@pytest.fixture
def home() -> Iterator[None]:
    """home: the test's thread ends in the network namespace it started in."""
    before = os.readlink(THREAD_NETNS)
    yield
    assert os.readlink(THREAD_NETNS) == before


def test_a_closed_collection_refuses_every_use_with_closed_error(bpffs: str) -> None:
    with legacy(bpffs) as obj:
        counters, program = obj.maps["counters"], obj.program
    uses = (
        lambda: counters.lookup(bytes(4)),
        lambda: counters.update(bytes(4), bytes(8)),
        lambda: counters.delete(bytes(4)),
        lambda: list(counters.items()),
        lambda: list(counters.keys()),
        lambda: counters.fd,
        lambda: counters.pin(f"{bpffs}/again"),
    )
    for use in uses:
        with pytest.raises(pybpftool.ClosedError, match="map counters: its Collection is closed"):
            use()
        with pytest.raises(ValueError):  # a closed file's use raises ValueError too
            use()
    with pytest.raises(pybpftool.ClosedError, match="program cls_entry: its Collection is"):
        program.pin(f"{bpffs}/prog")
    with pytest.raises(pybpftool.ClosedError, match="program cls_entry: its Collection is"):
        pybpftool.attach_tc("v0", "ingress", program)
    with pytest.raises(pybpftool.ClosedError, match="it is closed"), obj:
        pass
    obj.close()  # closing twice is fine
    assert "again" not in pins(bpffs) and "prog" not in pins(bpffs)


@pytest.mark.parametrize(
    ("use", "message"),
    [
        (lambda m: m.lookup(4), "a key must be bytes, not int"),  # bytes(4): four zeros
        (lambda m: m.lookup("abcd"), "a key must be bytes, not str"),
        (lambda m: m.lookup(None), "a key must be bytes, not NoneType"),
        (lambda m: m.delete(3), "a key must be bytes, not int"),
        (lambda m: m.update(bytes(4), "x" * 8), "a value must be bytes, not str"),
        (lambda m: m.update(bytes(4), 8), "a value must be bytes, not int"),
        (lambda m: m.update(bytes(4), bytes(8), flags="x"), "flags must be an int"),
    ],
)
def test_keys_and_values_are_bytes_and_nothing_else(
    bpffs: str, use: object, message: str
) -> None:
    with legacy(bpffs) as obj:
        counters = obj.maps["counters"]
        with pytest.raises(pybpftool.UsageError, match=f"map counters: {message}"):
            use(counters)  # type: ignore[operator]
        assert list(counters.items()) == []
        counters.update(bytearray(4), memoryview(bytes(8)))  # any bytes-like is fine
        assert counters.lookup(memoryview(bytes(4))) == bytes(8)


def test_bad_namespaces_are_refused_and_the_thread_stays_home(
    netns: str, bpffs: str, home: None
) -> None:
    before = tc_state(netns)
    with legacy(bpffs) as obj:
        for bad, error, message in (
            (f"{netns}-gone", pybpftool.KernelError, "Cannot open network namespace"),
            ("/etc/hostname", pybpftool.KernelError, "failed: Invalid argument"),
            ("/proc/self/ns/pid", pybpftool.KernelError, "failed: Invalid argument"),
            ("", pybpftool.UsageError, "is not a valid network namespace name"),
            ("..", pybpftool.UsageError, "is not a valid network namespace name"),
        ):
            with pytest.raises(error, match=message):
                pybpftool.attach_tc("v0", "ingress", obj.program, netns=bad)
            with pytest.raises(error, match=message):
                pybpftool.detach_xdp("v0", netns=bad)
        placed = pybpftool.attach_tc("v0", "ingress", obj.program, netns=Path("/run/netns", netns))
        pybpftool.detach_tc("v0", "ingress", pref=placed.pref, netns=Path("/run/netns", netns))
    assert tc_state(netns)[1:] == before[1:]  # the filter is gone again; clsact was made


def test_a_missing_device_is_link_not_found_and_nothing_is_made(
    netns: str, bpffs: str, home: None
) -> None:
    before, made = tc_state(netns), pins(bpffs)
    with legacy(bpffs) as obj:
        made = pins(bpffs)
        for call in (
            lambda: pybpftool.attach_tc("nope0", "ingress", obj.program, netns=netns),
            lambda: pybpftool.attach_tc("nope0", "egress", obj.program, pref=2, netns=netns),
            lambda: pybpftool.detach_tc("nope0", "ingress", netns=netns),
            lambda: pybpftool.detach_xdp("nope0", netns=netns),
        ):
            with pytest.raises(pybpftool.LinkNotFound, match='Cannot find device "nope0"') as err:
                call()
            assert err.value.errno == errno.ENODEV
    assert tc_state(netns) == before
    assert pins(bpffs) == made  # the load's own pins, nothing more


def test_detaching_what_is_not_there(netns: str, bpffs: str, home: None) -> None:
    """detach_xdp says False; detach_tc answers as `tc filter delete` does: no clsact, or no
    filter at that pref, is a NetlinkFailure with the kernel's words, and nothing is made."""
    before = tc_state(netns)
    assert pybpftool.detach_xdp("v0", netns=netns) is False
    with pytest.raises(pybpftool.NetlinkFailure, match="Parent Qdisc doesn't exists"):
        pybpftool.detach_tc("v0", "ingress", netns=netns)
    with pytest.raises(pybpftool.NetlinkFailure, match="Parent Qdisc doesn't exists"):
        pybpftool.detach_tc("v0", "egress", pref=7, handle=1, netns=netns)
    assert tc_state(netns) == before  # no clsact appeared
    tc(netns, "qdisc", "add", "dev", "v0", "clsact")
    with_clsact = tc_state(netns)
    pybpftool.detach_tc("v0", "ingress", netns=netns)  # every filter of an empty hook: none
    with pytest.raises(pybpftool.NetlinkFailure, match="Cannot find specified filter") as gone:
        pybpftool.detach_tc("v0", "ingress", pref=7, netns=netns)
    assert gone.value.errno == errno.ENOENT
    assert tc_state(netns) == with_clsact


def test_a_file_that_is_no_pin_is_named_so(netns: str, bpffs: str, home: None) -> None:
    obj = str(bpfobjs.build("legacy_maps", HOST))
    with pytest.raises(pybpftool.PinError, match=r"cannot open pinned program .*: not on a bpffs"):
        pybpftool.attach_tc("v0", "ingress", obj, netns=netns)
    with pytest.raises(pybpftool.PinError, match="No such file or directory"):
        pybpftool.attach_xdp("v0", f"{bpffs}/none", netns=netns)
    assert "clsact" not in tc(netns, "qdisc", "show", "dev", "v0")


def test_a_rejection_names_the_program_and_the_verifiers_reason(bpffs: str) -> None:
    """str(err) is written for a Python caller (pytc prints iproute2's lines from `details`);
    a program loaded as the wrong type is rejected the same way, leaving no pin."""
    obj = str(bpfobjs.build("rejected", HOST))
    with pytest.raises(pybpftool.VerifierError) as rejected:
        pybpftool.load(obj, prog_type="sched_cls", pin_root=bpffs)
    assert str(rejected.value) == (
        "program unchecked rejected by the verifier: Permission denied: "
        "R0 invalid mem access 'map_value_or_null'"
    )
    assert rejected.value.details[0].startswith("Prog section 'classifier' rejected")
    with pytest.raises(pybpftool.VerifierError, match="program cls_entry rejected by the ve"):
        pybpftool.load(str(bpfobjs.build("legacy_maps", HOST)), prog_type="xdp", pin_root=bpffs)
    assert not [p for p in pins(bpffs) if p.startswith("tc/globals/")]
