"""Pin paths are iproute2's literal strings; the pinning database reads like bpf_hash_init."""

from __future__ import annotations

import pytest

from pybpftool.errors import PinError
from pybpftool.pinning import (
    PinningDb,
    check_pin_name,
    map_pin_path,
    parse_pinning_db,
    work_dir,
)
from pybpftool.spec import MapOrigin, MapSpec, Pinning

SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
DB = PinningDb({5: "spec_custom/sub"})


def spec(name: str, pinning: Pinning, pin_id: int = 0) -> MapSpec:
    return MapSpec(
        name=name,
        type=1,
        key_size=4,
        value_size=4,
        max_entries=1,
        flags=0,
        origin=MapOrigin.LEGACY,
        section="maps",
        pinning=pinning,
        pin_id=pin_id,
    )


@pytest.mark.parametrize(
    ("pinning", "pin_id", "expected"),
    [
        pytest.param(Pinning.NONE, 0, None, id="none"),
        pytest.param(Pinning.OBJECT_NS, 1, f"/sys/fs/bpf/tc//{SHA1}/m", id="object-ns"),
        pytest.param(Pinning.GLOBAL_NS, 2, "/sys/fs/bpf/tc//globals/m", id="global-ns"),
        pytest.param(Pinning.BY_NAME, 1, "/sys/fs/bpf/tc//globals/m", id="btf-by-name"),
        pytest.param(Pinning.CUSTOM, 5, "/sys/fs/bpf/tc//../spec_custom/sub/m", id="custom"),
        pytest.param(Pinning.CUSTOM, 9, None, id="custom-unknown-id-not-pinned"),
    ],
)
def test_pin_paths(pinning: Pinning, pin_id: int, expected: str | None) -> None:
    wd = work_dir("/sys/fs/bpf", "tc")
    assert map_pin_path(spec("m", pinning, pin_id), wd, SHA1, DB) == expected


def test_xdp_work_dir_shares_layout() -> None:
    assert (
        map_pin_path(spec("m", Pinning.GLOBAL_NS), work_dir("/mnt/bpf/", "xdp"), SHA1, DB)
        == "/mnt/bpf/xdp//globals/m"
    )


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("a/b", id="slash"),
        pytest.param("..", id="dotdot"),
        pytest.param("x.y", id="dot"),
        pytest.param("bad\nname", id="newline"),
        pytest.param("", id="empty"),
        pytest.param("n" * 256, id="too-long"),
        pytest.param("pybpftool-tmp-7-0", id="temporary-pin-prefix"),
    ],
)
def test_bad_pin_names_are_refused(name: str) -> None:
    with pytest.raises(PinError):
        check_pin_name(name)
    with pytest.raises(PinError):
        map_pin_path(spec(name, Pinning.GLOBAL_NS), "/b/tc/", SHA1, DB)


@pytest.mark.parametrize("sub", ["../etc", "/abs", "a/../../b", "a//b"])
def test_custom_paths_cannot_escape(sub: str) -> None:
    with pytest.raises(PinError):
        map_pin_path(spec("m", Pinning.CUSTOM, 3), "/b/tc/", SHA1, PinningDb({3: sub}))


def test_pinning_db_format() -> None:
    text = "# comment\n\n   3 tracing\n\t0x4 foo/bar   # trailing comment\n2 reserved\n5 tc/cls1\n"
    db = parse_pinning_db(text, "/etc/iproute2/bpf_pinning")
    assert db.entries == {3: "tracing", 4: "foo/bar", 5: "tc/cls1"}
    assert db.warnings == ("Database /etc/iproute2/bpf_pinning, id 2 is reserved - ignoring!",)


def test_pinning_db_stops_at_corruption() -> None:
    db = parse_pinning_db("3 ok\nbogus line\n4 never\n", "db")
    assert db.entries == {3: "ok"}
    assert db.warnings == ("Database db is corrupted at: bogus line",)
