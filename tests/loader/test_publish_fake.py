"""The pin transaction against the fake kernel (issue 16): pins appear only complete and only
at commit, slots of pre-existing maps are written at commit and restored when the attach
fails, a lost publish race adopts the winner, stale temporary pins are removed, never used."""

from __future__ import annotations

import errno
import itertools
import os
import sys
from pathlib import Path

import bpfobjs
import pytest
from fakekernel import FakeKernel

from pybpftool.errors import KernelError, PinError, PyBpfError
from pybpftool.kernel.fd import Fd
from pybpftool.loader import LoadOptions, load_object
from pybpftool.loader.publish import MAX_ATTEMPTS, LoadGroup
from pybpftool.loader.slots import write_with_undo
from pybpftool.loader.txn import CommitLog, SlotWrite
from pybpftool.parser import parse_object
from pybpftool.spec import ObjectSpec
from pybpftool.uapi import BpfProgType as P

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
PINS = ("txn_hits", "txn_jmp", "txn_outer")


@pytest.fixture(autouse=True)
def _fake_bpffs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pybpftool.kernel.bpffs.is_bpffs", lambda path: True)


def options(mnt: Path, **kw: object) -> LoadOptions:
    base: dict[str, object] = {
        "prog_type": P.BPF_PROG_TYPE_SCHED_CLS,
        "section": "classifier",
        "env": {"TC_BPF_MNT": str(mnt)},
        "pinning_db": str(mnt / "no-db"),
    }
    base.update(kw)
    return LoadOptions(**base)  # type: ignore[arg-type]


def txn() -> ObjectSpec:
    return parse_object(bpfobjs.build("txn_legacy", HOST))


def pins(mnt: Path) -> dict[str, int]:
    """pins: pin name -> the id of the object it holds (the fake's pins are files)."""
    folder = mnt / "tc" / "globals"
    return {p.name: int(p.read_text()) for p in folder.iterdir()} if folder.is_dir() else {}


def slots(kernel: FakeKernel, pin: Path) -> dict[int, int]:
    """slots: slot -> id of the program in it, for the map pinned at `pin`."""
    entries = kernel.objects[int(pin.read_text())].entries  # type: ignore[union-attr]
    return {int.from_bytes(k, "little"): int.from_bytes(v, "little") for k, v in entries.items()}


def fails() -> None:
    raise KernelError("attach", errno.EBUSY, "attach failed: Device or resource busy")


def test_a_deferred_load_publishes_nothing_until_its_commit(tmp_path: Path) -> None:
    kernel = FakeKernel()
    loaded = load_object(kernel, txn(), options(tmp_path), defer_commit=True)
    assert pins(tmp_path) == {} and "obj_pin" not in kernel.ops()
    seen: list[dict[str, int]] = []
    loaded.commit(lambda: seen.append(pins(tmp_path)))
    assert sorted(seen[0]) == sorted(PINS)  # published before the attach ran
    assert pins(tmp_path) == {n: kernel.map_of(loaded.maps[n].fd).id for n in PINS}
    pinned = [d for op, d in kernel.calls if op == "obj_pin"]
    renamed = [d for op, d in kernel.calls if op == "pin_rename"]
    assert all(os.path.basename(p).startswith("pybpftool-tmp-") for p in pinned)
    assert [os.path.basename(p) for p in renamed] == list(PINS)


def test_a_new_prog_array_is_complete_when_it_is_pinned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kernel = FakeKernel()
    at_pin: dict[str, int] = {}
    real_pin = kernel.obj_pin

    def pin(fd: Fd, path: str) -> None:
        at_pin[kernel.map_of(fd).req.name] = len(kernel.map_of(fd).entries)
        real_pin(fd, path)

    monkeypatch.setattr(kernel, "obj_pin", pin)
    load_object(kernel, txn(), options(tmp_path))
    assert at_pin == {"txn_hits": 0, "txn_jmp": 2, "txn_outer": 1}


def test_a_failed_attach_restores_every_slot_of_a_pinned_prog_array(tmp_path: Path) -> None:
    kernel = FakeKernel()
    first = load_object(kernel, txn(), options(tmp_path))
    jmp = tmp_path / "tc/globals/txn_jmp"
    kernel.map_delete(first.maps["txn_jmp"].fd, (1).to_bytes(4, "little"))  # slot 1: empty
    before, open_before = slots(kernel, jmp), dict(kernel.open)
    second = load_object(kernel, txn(), options(tmp_path), defer_commit=True)
    assert slots(kernel, jmp) == before  # nothing written before the commit
    with pytest.raises(KernelError, match="attach failed"):
        second.commit(fails)
    assert slots(kernel, jmp) == before  # slot 0 has its old program, slot 1 is empty again
    assert kernel.open == open_before  # the second load's fds and the undo records closed
    ok = load_object(kernel, txn(), options(tmp_path), defer_commit=True)
    ok.commit()
    mine = {kernel.open[int(p.fd)] for p in ok.programs}
    assert set(slots(kernel, jmp).values()) <= mine and len(slots(kernel, jmp)) == 2


def test_a_failed_commit_removes_only_the_pins_it_published(tmp_path: Path) -> None:
    kernel = FakeKernel()
    load_object(kernel, txn(), options(tmp_path)).close()
    os.unlink(tmp_path / "tc/globals/txn_outer")
    before = pins(tmp_path)
    loaded = load_object(kernel, txn(), options(tmp_path), defer_commit=True)
    with pytest.raises(KernelError):
        loaded.commit(fails)
    assert pins(tmp_path) == before


def test_a_lost_publish_race_adopts_the_winner_and_loads_again(tmp_path: Path) -> None:
    kernel = FakeKernel()
    loser = load_object(kernel, txn(), options(tmp_path), defer_commit=True)
    main_fd = loser.main.fd.num  # type: ignore[union-attr]
    load_object(kernel, txn(), options(tmp_path)).close()  # the winner publishes first
    winner = pins(tmp_path)
    used: dict[str, int] = {}

    def attach() -> None:
        assert loser.main is not None
        used.update({n: kernel.map_of(loser.maps[n].fd).id for n in PINS})
        used["main"] = loser.main.fd.num

    loser.commit(attach)
    assert used == {**winner, "main": main_fd}  # the winner's maps, the same fd number
    assert all(loser.maps[n].reused for n in PINS)
    assert pins(tmp_path) == winner
    assert kernel.ops().count("prog_load") == 9  # the loser's, the winner's, the loser's again


def test_a_reused_pin_replaced_before_the_commit_is_adopted_again(tmp_path: Path) -> None:
    kernel = FakeKernel()
    load_object(kernel, txn(), options(tmp_path)).close()
    loaded = load_object(kernel, txn(), options(tmp_path), defer_commit=True)
    for name in PINS:  # another tool replaces the pins meanwhile
        os.unlink(tmp_path / "tc/globals" / name)
    load_object(kernel, txn(), options(tmp_path)).close()
    replaced = pins(tmp_path)
    loaded.commit()
    assert {n: kernel.map_of(loaded.maps[n].fd).id for n in PINS} == replaced


def test_stale_temporary_pins_are_removed_never_adopted(tmp_path: Path) -> None:
    kernel = FakeKernel()
    load_object(kernel, txn(), options(tmp_path)).close()
    stale = tmp_path / "tc/globals/pybpftool-tmp-999999-0"
    stale.write_text(str(pins(tmp_path)["txn_hits"]))
    os.unlink(tmp_path / "tc/globals/txn_hits")
    loaded = load_object(kernel, txn(), options(tmp_path))
    assert not stale.exists()
    assert not loaded.maps["txn_hits"].reused  # created again, not taken from the stale pin
    assert pins(tmp_path)["txn_hits"] == kernel.map_of(loaded.maps["txn_hits"].fd).id


def test_pins_that_keep_changing_make_the_commit_give_up_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kernel = FakeKernel()

    def taken(old: str, new: str) -> None:
        kernel._enter("pin_rename", new)
        raise KernelError("rename", errno.EEXIST, "rename failed: File exists")

    monkeypatch.setattr(kernel, "pin_rename", taken)
    with pytest.raises(PinError, match=f"gave up after {MAX_ATTEMPTS} attempts"):
        load_object(kernel, txn(), options(tmp_path))
    assert kernel.ops().count("pin_rename") == MAX_ATTEMPTS
    assert pins(tmp_path) == {} and kernel.open == {}


def test_the_loads_of_one_command_share_the_maps_one_publishes(tmp_path: Path) -> None:
    kernel = FakeKernel()
    group = LoadGroup()
    first = load_object(kernel, txn(), options(tmp_path, group=group), defer_commit=True)
    second = load_object(kernel, txn(), options(tmp_path, group=group), defer_commit=True)
    for name in PINS:
        assert kernel.map_of(second.maps[name].fd) is kernel.map_of(first.maps[name].fd)
        assert second.maps[name].reused and not first.maps[name].reused
    group.commit()
    assert pins(tmp_path) == {n: kernel.map_of(first.maps[n].fd).id for n in PINS}
    jmp = slots(kernel, tmp_path / "tc/globals/txn_jmp")
    assert set(jmp.values()) <= {kernel.open[int(p.fd)] for p in second.programs}


def test_a_discarded_load_leaves_nothing(tmp_path: Path) -> None:
    kernel = FakeKernel()
    loaded = load_object(kernel, txn(), options(tmp_path), defer_commit=True)
    loaded.discard()
    assert pins(tmp_path) == {} and kernel.open == {}


STEPS = ("obj_get", "map_info", "map_create", "prog_load", "map_lookup", "prog_by_id",
         "map_update", "obj_pin", "pin_rename", "attach")  # fmt: skip


@pytest.mark.parametrize("op", STEPS)
def test_a_failure_at_any_step_leaves_pinned_state_as_it_was(tmp_path: Path, op: str) -> None:
    kernel = FakeKernel()
    load_object(kernel, txn(), options(tmp_path)).close()
    os.unlink(tmp_path / "tc/globals/txn_outer")  # published again by every load below
    jmp = tmp_path / "tc/globals/txn_jmp"
    before, slots_before, open_before = pins(tmp_path), slots(kernel, jmp), dict(kernel.open)
    for n in itertools.count(1):
        kernel.counts.clear()
        kernel.failures = {} if op == "attach" else {(op, n): errno.EPERM}
        if op == "prog_load":
            kernel.failures[(op, n + 1)] = errno.EPERM  # the retry for the log fails too

        def attach() -> None:
            if op == "attach":
                fails()

        try:
            loaded = load_object(kernel, txn(), options(tmp_path), defer_commit=True)
            loaded.commit(attach)
        except PyBpfError:
            pass
        else:
            assert kernel.counts.get(op, 0) < n, f"{op} #{n} failed but the command went on"
            assert n > 1, f"a load with pins in place never calls {op}"
            break
        assert pins(tmp_path) == before, f"{op} #{n}: pins changed"
        assert slots(kernel, jmp) == slots_before, f"{op} #{n}: slots changed"
        assert kernel.open == open_before, f"{op} #{n}: fds left open"
        if op == "attach":
            break


def test_a_map_in_map_slot_write_keeps_the_old_inner_map_for_its_undo(tmp_path: Path) -> None:
    """write_with_undo on a map-in-map: the old inner map is opened by id (kept alive by the
    undo record), the slot written, then put back by the undo; an empty slot is emptied."""
    kernel = FakeKernel()
    loaded = load_object(kernel, txn(), options(tmp_path))
    outer, inner = loaded.maps["txn_outer"], loaded.maps["txn_inner"]
    other = kernel.map_create(kernel.map_of(inner.fd).req)
    log = CommitLog()
    write_with_undo(kernel, SlotWrite(outer, 0, other), log)
    write_with_undo(kernel, SlotWrite(outer, 1, other), log)
    assert kernel.slot(outer.fd, 0) == kernel.slot(outer.fd, 1) == kernel.map_of(other).id
    log.undo(kernel, lambda line: None)
    assert kernel.slot(outer.fd, 0) == kernel.map_of(inner.fd).id
    assert kernel.slot(outer.fd, 1) is None
    assert "map_by_id" in kernel.ops()
