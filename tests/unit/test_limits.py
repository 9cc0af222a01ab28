"""The bounds on what a hostile object can make pybpftool do: sizes as users write them, and
what creating a map reserves in the kernel (what `object verify` budgets)."""

from __future__ import annotations

import pytest

from pybpftool.errors import PyBpfError, UsageError
from pybpftool.loader.limits import (
    LOG_SIZE,
    MapBudget,
    check_budget,
    format_size,
    parse_size,
    reserved_bytes,
    verifier_log_size,
)
from pybpftool.spec import MapOrigin, MapSpec
from pybpftool.uapi import BpfMapType as T


@pytest.mark.parametrize(
    ("text", "value"),
    [("65536", 65536), ("64K", 65536), ("64k", 65536), ("1M", 1 << 20), ("2G", 2 << 30),
     ("1MiB", 1 << 20), ("512 KB", 512 << 10)],
)  # fmt: skip
def test_sizes_are_bytes_with_binary_suffixes(text: str, value: int) -> None:
    assert parse_size(text, "--x") == value


@pytest.mark.parametrize("text", ["", "abc", "1T", "-1", "1.5M", "0x10"])
def test_a_bad_size_is_refused_with_how_to_write_one(text: str) -> None:
    with pytest.raises(UsageError, match=f"--x: '{text}' is not a size") as caught:
        parse_size(text, "--x")
    assert (
        caught.value.hint == "Write bytes, or a number with K, M or G (1024-based): 65536, 64K, 1M."
    )


def test_sizes_read_back_short() -> None:
    assert [format_size(v) for v in (300, 1 << 10, 3 << 19, 64 << 20, 1 << 30)] == [
        "300 bytes", "1 KiB", "1.5 MiB", "64 MiB", "1 GiB"
    ]  # fmt: skip


def test_the_log_size_comes_from_the_environment() -> None:
    assert verifier_log_size({}) == LOG_SIZE
    assert verifier_log_size({"PYBPFTOOL_VERIFIER_LOG_SIZE": "16M"}) == 16 << 20


def spec(kind: int, max_entries: int, key: int = 4, value: int = 4, flags: int = 0) -> MapSpec:
    return MapSpec(
        name="m", type=kind, key_size=key, value_size=value, max_entries=max_entries,
        flags=flags, origin=MapOrigin.BTF, section=".maps",
    )  # fmt: skip


def test_what_a_map_reserves_when_it_is_created() -> None:
    assert reserved_bytes(spec(T.BPF_MAP_TYPE_ARRAY, 1 << 28), cpus=2) == 1 << 30
    assert reserved_bytes(spec(T.BPF_MAP_TYPE_PERCPU_ARRAY, 1024, value=8), cpus=4) == 32768
    assert reserved_bytes(spec(T.BPF_MAP_TYPE_RINGBUF, 1 << 24, key=0, value=0), cpus=2) == 16 << 20
    # a hash: its buckets (a power of two of them), and its elements unless NO_PREALLOC
    assert reserved_bytes(spec(T.BPF_MAP_TYPE_HASH, 1000), cpus=2) == 16 * 1024 + 1000 * 8
    assert reserved_bytes(spec(T.BPF_MAP_TYPE_HASH, 1000, flags=1), cpus=2) == 16 * 1024
    assert reserved_bytes(spec(T.BPF_MAP_TYPE_LRU_HASH, 1000, flags=1), cpus=2) == 16 * 1024 + 8000
    assert reserved_bytes(spec(T.BPF_MAP_TYPE_LPM_TRIE, 1 << 30, flags=1), cpus=2) == 0


def test_the_budget_names_the_map_or_the_total() -> None:
    small = MapBudget(per_map=1 << 20, total=3 << 20)
    check_budget([spec(T.BPF_MAP_TYPE_ARRAY, 1 << 18)] * 3, small)  # 1 MiB each, 3 in all
    with pytest.raises(PyBpfError, match=r"map 'm' would reserve 4 MiB \(1048576 entries"):
        check_budget([spec(T.BPF_MAP_TYPE_ARRAY, 1 << 20)], small)
    with pytest.raises(PyBpfError, match="maps would reserve 4 MiB in all"):
        check_budget([spec(T.BPF_MAP_TYPE_ARRAY, 1 << 18)] * 4, small)
