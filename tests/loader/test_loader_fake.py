"""The loader against a recording fake kernel: order, pins, reuse, mismatch, rollback, logs."""

from __future__ import annotations

import errno
import itertools
import os
import sys
from pathlib import Path

import bpfobjs
import pytest
from fakekernel import FakeKernel, FakeMap

from pybpftool.errors import KernelError, PinError, PyBpfError, VerifierError
from pybpftool.kernel.bpffs import make_hierarchy
from pybpftool.loader import LoadOptions, load_object
from pybpftool.loader.limits import LOG_SIZE, LOG_SIZE_ENV
from pybpftool.parser import parse_object
from pybpftool.spec import ObjectSpec
from pybpftool.uapi import BpfMapType as T
from pybpftool.uapi import BpfProgType as P

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
SCHED_CLS = P.BPF_PROG_TYPE_SCHED_CLS


@pytest.fixture
def mnt(tmp_path: Path) -> Path:
    """mnt: a folder standing in for bpffs (the fake kernel's pins are plain files)."""
    return tmp_path


def options(mnt: Path, **kw: object) -> LoadOptions:
    base: dict[str, object] = {
        "prog_type": SCHED_CLS,
        "section": "classifier",
        "env": {"TC_BPF_MNT": str(mnt)},
        "pinning_db": str(mnt / "no-db"),
    }
    base.update(kw)
    return LoadOptions(**base)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _fake_bpffs(monkeypatch: pytest.MonkeyPatch) -> None:
    # The temporary folder plays bpffs: statfs would say it is not one.
    monkeypatch.setattr("pybpftool.kernel.bpffs.is_bpffs", lambda path: True)


def legacy() -> ObjectSpec:
    return parse_object(bpfobjs.build("legacy_maps", HOST))


def files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_maps_are_created_before_programs_and_outer_maps_after_their_inner(mnt: Path) -> None:
    kernel = FakeKernel()
    obj = load_object(kernel, legacy(), options(mnt))
    creates = [d for op, d in kernel.calls if op == "map_create"]
    assert creates == ["counters", "per_object", "custom_pin", "jmp_tc", "map_inner", "map_outer"]
    first_prog = kernel.ops().index("prog_load")
    assert all(i < first_prog for i, op in enumerate(kernel.ops()) if op == "map_create")
    outer = kernel.map_of(obj.maps["map_outer"].fd)
    assert outer.req.value_size == 4 and outer.req.inner_map_fd == int(obj.maps["map_inner"].fd)
    assert kernel.slot(obj.maps["map_outer"].fd, 0) == kernel.map_of(obj.maps["map_inner"].fd).id
    assert len(outer.entries) == 1
    obj.close()
    assert kernel.open == {}


def test_pins_land_where_iproute2_puts_them(mnt: Path) -> None:
    spec = legacy()
    obj = load_object(FakeKernel(), spec, options(mnt))
    assert obj.maps["counters"].pin_path == f"{mnt}/tc//globals/counters"
    assert obj.maps["per_object"].pin_path == f"{mnt}/tc//{spec.sha1}/per_object"
    assert obj.maps["custom_pin"].pin_path is None  # id 5 is not in the (missing) database
    assert {"tc/globals/counters", f"tc/{spec.sha1}/per_object", "tc/globals/map_outer"} <= files(
        mnt
    )
    assert os.readlink(mnt / "xdp") == f"{mnt}/tc/" and os.readlink(mnt / "ip") == f"{mnt}/tc/"


def test_custom_pinning_ids_come_from_the_database(mnt: Path) -> None:
    db = mnt / "bpf_pinning"
    db.write_text("# custom ids\n5 spec_custom/sub\n")
    obj = load_object(FakeKernel(), legacy(), options(mnt, pinning_db=str(db)))
    assert obj.maps["custom_pin"].pin_path == f"{mnt}/tc//../spec_custom/sub/custom_pin"
    assert (mnt / "spec_custom/sub/custom_pin").exists()


def test_tail_call_sections_fill_the_prog_array_with_their_id(mnt: Path) -> None:
    kernel = FakeKernel()
    obj = load_object(kernel, legacy(), options(mnt))
    names = [p.spec.section for p in obj.programs]
    assert names == ["classifier", "42/0", "0x2a/1"]  # 99/0 matches no prog array id
    jmp = obj.maps["jmp_tc"].fd
    by_section = {p.spec.section: kernel.open[int(p.fd)] for p in obj.programs}
    assert len(kernel.map_of(jmp).entries) == 2
    assert kernel.slot(jmp, 0) == by_section["42/0"]
    assert kernel.slot(jmp, 1) == by_section["0x2a/1"]


def test_compatible_pinned_map_is_reused_not_created(mnt: Path) -> None:
    kernel = FakeKernel()
    first = load_object(kernel, legacy(), options(mnt))
    second = load_object(kernel, legacy(), options(mnt))
    assert second.maps["counters"].reused and second.maps["map_outer"].reused
    assert not second.maps["jmp_tc"].reused  # not pinned: a new one each time
    assert kernel.map_of(first.maps["counters"].fd) is kernel.map_of(second.maps["counters"].fd)
    assert [d for op, d in kernel.calls if op == "map_create"].count("counters") == 1


def test_incompatible_pin_fails_naming_each_field_and_changes_nothing(mnt: Path) -> None:
    kernel = FakeKernel()
    other = FakeMap(0, kernel_req(T.BPF_MAP_TYPE_ARRAY, 8, 8, 256, 0))
    other.id = kernel._new_object(other)
    make_hierarchy(str(mnt))  # iproute2's tc/, globals and symlinks exist after any load
    (mnt / "tc/globals/counters").write_text(str(other.id))
    before = files(mnt)
    with pytest.raises(PinError) as caught:
        load_object(kernel, legacy(), options(mnt))
    assert caught.value.message == "Map 'counters' self-check failed!"
    assert caught.value.details == (
        "Map specification differs from pinned file!",
        " - Type:         1 (obj) != 2 (pin)",
        " - Size key:     4 (obj) != 8 (pin)",
        " - Flags:        0x1 (obj) != 0 (pin)",
        "",
    )
    assert files(mnt) == before and kernel.open == {}
    assert "prog_load" not in kernel.ops()


def kernel_req(t: int, key: int, value: int, max_entries: int, flags: int):  # type: ignore[no-untyped-def]
    from pybpftool.kernel.bpf import MapRequest

    return MapRequest(t, key, value, max_entries, flags, name="counters")


def test_pin_race_eexist_opens_and_shares_the_winner(
    mnt: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kernel = FakeKernel()
    winner = load_object(kernel, legacy(), options(mnt))
    # Simulate losing the race: the lookup misses, then pinning hits the winner's pin.
    real_get = kernel.obj_get
    misses = {"left": 1}

    def racy_get(path: str, flags: int = 0):  # type: ignore[no-untyped-def]
        if path.endswith("/counters") and misses["left"]:
            misses["left"] -= 1
            kernel._enter("obj_get", path)
            raise KernelError("obj get", errno.ENOENT, "obj get failed: ENOENT")
        return real_get(path, flags)

    monkeypatch.setattr(kernel, "obj_get", racy_get)
    loser = load_object(kernel, legacy(), options(mnt))
    assert loser.maps["counters"].reused
    assert kernel.map_of(loser.maps["counters"].fd) is kernel.map_of(winner.maps["counters"].fd)


@pytest.mark.parametrize(
    "op", ["map_create", "obj_pin", "map_update", "prog_load", "btf_load", "obj_get", "map_info"]
)
def test_failure_at_every_step_rolls_everything_back(mnt: Path, op: str) -> None:
    # Pins that exist before the command must survive every failed load, untouched.
    kernel = FakeKernel()
    load_object(kernel, legacy(), options(mnt)).close()
    os.unlink(mnt / "tc/globals/map_outer")  # leave `counters` and `per_object` pinned
    before = {p: (mnt / p).read_text() for p in files(mnt) if (mnt / p).is_file()}
    for n in itertools.count(1):
        kernel.counts.clear()
        kernel.failures = {(op, n): errno.EPERM}
        if op == "prog_load":
            # A rejected program is loaded again for its log: make the retry fail as well.
            kernel.failures[(op, n + 1)] = errno.EPERM
        try:
            load_object(kernel, legacy(), options(mnt)).close()
        except PyBpfError:
            pass
        else:
            if op not in ("btf_load", "prog_load") or kernel.counts.get(op, 0) < n:
                assert kernel.counts.get(op, 0) < n, f"{op} #{n} failed but the load went on"
                assert n > 1, f"a load with pins in place never calls {op}"
                break
        after = {p: (mnt / p).read_text() for p in files(mnt) if (mnt / p).is_file()}
        assert kernel.open == {}, f"{op} #{n}: fds left open"
        if op == "btf_load":
            # BTF failure is not fatal: the load went through; undo its one new pin.
            os.unlink(mnt / "tc/globals/map_outer")
            continue
        assert after == before, f"{op} #{n}: pins changed"


def prog_loads(kernel: FakeKernel) -> list[str]:
    return [d.split(" ", 1)[1] for op, d in kernel.calls if op == "prog_load"]


def test_a_rejected_program_is_loaded_again_once_with_a_bounded_log(mnt: Path) -> None:
    kernel = FakeKernel()
    kernel.verifier_log = "x" * 3000 + "\nR1 invalid mem access\n"
    with pytest.raises(VerifierError) as caught:
        load_object(kernel, legacy(), options(mnt))
    assert prog_loads(kernel) == ["level=0 size=0", f"level=1 size={LOG_SIZE}"]
    assert caught.value.log == kernel.verifier_log
    assert "R1 invalid mem access" in caught.value.details[-2]
    assert caught.value.details[0] == "Prog section 'classifier' rejected: Permission denied (13)!"


# verbose asks for iproute2's 64 KiB log from the start, the quiet way only after a refusal;
# a log the bound cannot hold gets one load without a log for the kernel's own answer.
@pytest.mark.parametrize(
    ("verbose", "loads"),
    [
        (False, ["level=0 size=0", "level=1 size=65536"]),
        (True, ["level=1 size=65536", "level=0 size=0"]),
    ],
    ids=["quiet", "verbose"],
)
def test_a_long_log_keeps_its_end_and_the_rejections_errno(
    mnt: Path, verbose: bool, loads: list[str]
) -> None:
    kernel = FakeKernel()
    lines = [f"{i}: (07) r0 += 1" for i in range(100_000)]
    kernel.verifier_log = "\n".join([*lines, "R2 !read_ok", "processed 100001 insns", ""])
    env = {"TC_BPF_MNT": str(mnt), LOG_SIZE_ENV: "64K"}
    with pytest.raises(VerifierError) as caught:
        load_object(kernel, legacy(), options(mnt, verbose=verbose, env=env))
    assert prog_loads(kernel) == loads
    log = caught.value.log
    assert len(log.encode()) <= 65536 + 100
    first, second = log.split("\n")[:2]
    missing = len(kernel.verifier_log) + 1 - len(log.split("\n", 1)[1].encode()) - 1
    assert (
        first == f"[... {missing} bytes of the verifier log before this; {LOG_SIZE_ENV} keeps more]"
    )
    assert second.endswith(": (07) r0 += 1") and second in lines  # whole lines only
    assert log.endswith("R2 !read_ok\nprocessed 100001 insns\n")
    # the ENOSPC of the cut log is ours: the rejection is the first attempt's EACCES
    assert caught.value.errno == errno.EACCES
    assert caught.value.details[0] == "Prog section 'classifier' rejected: Permission denied (13)!"


@pytest.mark.parametrize(
    ("verbose", "loads"),
    [
        (False, ["level=0 size=0", f"level=1 size={LOG_SIZE}"]),
        (True, ["level=1 size=65536", f"level=1 size={LOG_SIZE}", "level=0 size=0"]),
    ],
    ids=["quiet", "verbose"],
)
def test_before_linux_6_4_a_long_log_keeps_its_start(
    mnt: Path, verbose: bool, loads: list[str]
) -> None:
    kernel = FakeKernel()
    kernel.log_true_size_supported = False
    kernel.verifier_log = "y" * (2 * LOG_SIZE)
    with pytest.raises(VerifierError) as caught:
        load_object(kernel, legacy(), options(mnt, verbose=verbose))
    assert prog_loads(kernel) == loads
    assert caught.value.log.startswith("y" * (LOG_SIZE - 1) + "\n[... the verifier log goes on")
    assert caught.value.errno == errno.EACCES


@pytest.mark.parametrize("value", ["abc", "0", "12", "2G", "-1K"])
def test_a_bad_log_size_is_refused_by_name(mnt: Path, value: str) -> None:
    env = {"TC_BPF_MNT": str(mnt), LOG_SIZE_ENV: value}
    with pytest.raises(PyBpfError, match=f"{LOG_SIZE_ENV}: '{value}' is not a size from 1 KiB"):
        load_object(FakeKernel(), legacy(), options(mnt, env=env))


def test_without_verbose_a_long_log_is_trimmed_to_its_tail(mnt: Path) -> None:
    kernel = FakeKernel()
    kernel.verifier_log = "a" * 10_000 + "\nlast line\n"
    with pytest.raises(VerifierError) as caught:
        load_object(kernel, legacy(), options(mnt))
    text = "\n".join(caught.value.details)
    assert "use 'verb' option for the full verbose log" in text and "last line" in text
    assert len(text) < 5000


def test_program_selection_by_name_and_missing_section(mnt: Path) -> None:
    kernel = FakeKernel()
    obj = load_object(kernel, legacy(), options(mnt, section=None, program="tail_one"))
    assert obj.main is not None and obj.main.spec.name == "tail_one"
    with pytest.raises(PyBpfError, match="object file doesn't contain sec nope"):
        load_object(FakeKernel(), legacy(), options(mnt, section="nope"))
    with pytest.raises(PyBpfError, match="object file doesn't contain prog nope"):
        load_object(FakeKernel(), legacy(), options(mnt, section=None, program="nope"))


def test_forced_type_and_license_reach_prog_load(mnt: Path) -> None:
    kernel = FakeKernel()
    obj = load_object(kernel, legacy(), options(mnt, prog_type=P.BPF_PROG_TYPE_SCHED_ACT))
    progs = [kernel.obj(p.fd) for p in obj.programs]
    assert {p.req.prog_type for p in progs} == {P.BPF_PROG_TYPE_SCHED_ACT}  # type: ignore[union-attr]
    assert {p.req.license for p in progs} == {"GPL"}  # type: ignore[union-attr]


def test_btf_map_in_map_uses_a_throwaway_template_and_static_slots(mnt: Path) -> None:
    kernel = FakeKernel()
    spec = parse_object(bpfobjs.build("btf_maps", HOST))
    obj = load_object(kernel, spec, options(mnt, section="tc"))
    outer = kernel.map_of(obj.maps["outer"].fd)
    assert outer.req.inner_map_fd not in kernel.open  # the throwaway template is gone
    slots = {int.from_bytes(k, "little") for k in outer.entries}
    assert slots == {key for key, _name in spec.map("outer").contents}  # type: ignore[union-attr]
    jumps = kernel.map_of(obj.maps["jumps"].fd)
    loaded = {p.spec.name: kernel.open[int(p.fd)] for p in obj.programs}
    assert {
        int.from_bytes(k, "little"): int.from_bytes(v, "little") for k, v in jumps.entries.items()
    } == {
        1: loaded["tail_a"],
        3: loaded["tail_b"],
    }


def test_global_data_maps_get_their_bytes_and_rodata_is_frozen(mnt: Path) -> None:
    kernel = FakeKernel()
    spec = parse_object(bpfobjs.build("global_data", HOST))
    obj = load_object(kernel, spec, options(mnt, section="classifier"))
    for m in spec.maps:
        if m.data is None:
            continue
        fake = kernel.map_of(obj.maps[m.name].fd)
        assert fake.entries == {b"\0\0\0\0": m.data}
        assert fake.frozen == m.freeze == m.name.startswith((".rodata", "global_d.rodata"))


def test_failed_first_load_leaves_only_iproute2s_hierarchy(mnt: Path) -> None:
    kernel = FakeKernel()
    kernel.verifier_log = "R0 !read_ok\n"
    with pytest.raises(VerifierError):
        load_object(kernel, legacy(), options(mnt))
    assert files(mnt) == {"tc", "tc/globals", "xdp", "ip"}  # no pins, no <sha1>/ folder
    assert kernel.open == {}


def test_bad_pin_name_is_refused_before_anything_is_created(mnt: Path) -> None:
    spec = legacy()
    renamed = tuple(
        m._replace(name="../escape") if m.name == "map_outer" else m for m in spec.maps
    )
    kernel = FakeKernel()
    with pytest.raises(PinError, match=r"cannot pin map '\.\./escape': its name contains '/'"):
        load_object(kernel, spec._replace(maps=renamed), options(mnt))
    assert kernel.calls == []


def test_pinning_database_warnings_are_reported(mnt: Path) -> None:
    db = mnt / "bpf_pinning"
    db.write_text("2 reserved\n5 spec_custom\n")
    lines: list[str] = []
    load_object(FakeKernel(), legacy(), options(mnt, pinning_db=str(db), report=lines.append))
    assert lines == [f"Database {db}, id 2 is reserved - ignoring!"]


def test_refused_btf_is_not_fatal_maps_and_programs_load_without_it(mnt: Path) -> None:
    kernel = FakeKernel()
    kernel.btf_ok = False
    spec = parse_object(bpfobjs.build("btf_maps", HOST))
    obj = load_object(kernel, spec, options(mnt, section="tc"))
    assert obj.btf_fd is None
    assert kernel.ops().count("btf_load") == 2  # as parsed, then sanitized
    for m in obj.maps.values():
        assert kernel.map_of(m.fd).req.btf_fd == 0
    for p in obj.programs:
        req = kernel.obj(p.fd).req  # type: ignore[union-attr]
        assert req.func_info == b"" and req.prog_btf_fd == 0


def test_loaded_btf_types_maps_and_gives_programs_func_info(mnt: Path) -> None:
    kernel = FakeKernel()
    spec = parse_object(bpfobjs.build("btf_maps", HOST))
    obj = load_object(kernel, spec, options(mnt, section="tc"))
    assert obj.btf_fd is not None
    flows = kernel.map_of(obj.maps["flows"].fd).req
    assert flows.btf_fd == int(obj.btf_fd) and flows.btf_key_type_id and flows.btf_value_type_id
    for p in obj.programs:
        req = kernel.obj(p.fd).req  # type: ignore[union-attr]
        assert req.prog_btf_fd == int(obj.btf_fd)
        assert len(req.func_info) == 8 * (1 + len(p.spec.subprograms))  # one per function
        assert req.line_info


def test_a_map_retried_without_btf_reports_the_retrys_errno(mnt: Path) -> None:
    """The types are refused (EINVAL), then the plain map too, for another reason (EMFILE):
    the report names what ended it."""
    kernel = FakeKernel()
    kernel.fail_at("map_create", 1, errno.EINVAL)
    kernel.fail_at("map_create", 2, errno.EMFILE)
    spec = parse_object(bpfobjs.build("btf_maps", HOST))
    with pytest.raises(KernelError) as caught:
        load_object(kernel, spec, options(mnt, section="tc"))
    first = next(name for op, name in kernel.calls if op == "map_create")
    assert caught.value.errno == errno.EMFILE
    assert caught.value.message == f"Map object '{first}' rejected: Too many open files"
    assert kernel.open == {}
