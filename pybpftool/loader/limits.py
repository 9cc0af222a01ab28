"""limits: the bounds on work a hostile object can ask for, and how users raise them.

- The verifier log of a rejected program is kept up to LOG_SIZE bytes, its end (the part that
  explains the rejection: libbpf and iproute2's legacy loader print the tail too); raised by
  $PYBPFTOOL_VERIFIER_LOG_SIZE or `pybpftool object verify --log-size`.
- `pybpftool object verify` creates maps only to load the programs against them: it refuses an
  object whose maps would reserve more than MAP_SIZE bytes each or MAPS_TOTAL in all (raised
  by `--max-map-size` and `--max-maps-size`). Loads that attach create what the object asks.

Sizes are written as bytes with an optional K, M or G (binary) suffix: `65536`, `64K`, `1M`.
"""

# Annotations are evaluated here (no `from __future__ import annotations`): a NamedTuple
# field given as a string costs typing a compile() when the class is made.

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple

from pybpftool.errors import PyBpfError, UsageError
from pybpftool.spec import MapSpec
from pybpftool.uapi import BpfMapType as T

LOG_SIZE_ENV = "PYBPFTOOL_VERIFIER_LOG_SIZE"
LOG_SIZE = 1 << 20
LOG_MIN, LOG_MAX = 1 << 10, 1 << 30  # the kernel wants 128 bytes at least, 1 GiB at most
MAP_SIZE = 64 << 20
MAPS_TOTAL = 256 << 20
_SIZE = r"(\d+)\s*([KMG]?)(?:i?B)?"  # compiled (re's cache) when a size is given
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_size(text: str, what: str, low: int = 1, high: int = 1 << 62) -> int:
    """parse_size: `text` (bytes, optional K/M/G suffix) as a number of bytes in [low, high];
    a UsageError naming `what` otherwise."""
    match = re.fullmatch(_SIZE, text.strip(), re.IGNORECASE)
    value = int(match.group(1)) * _UNITS[match.group(2).upper()] if match else -1
    if not low <= value <= high:
        raise UsageError(
            f"{what}: '{text}' is not a size from {format_size(low)} to {format_size(high)}",
            "Write bytes, or a number with K, M or G (1024-based): 65536, 64K, 1M.",
        )
    return value


def format_size(value: int) -> str:
    """format_size: `value` bytes the short way (64 MiB, 1.5 GiB, 300 bytes)."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= scale:
            number = value / scale
            return f"{number:.0f} {unit}" if number == int(number) else f"{number:.1f} {unit}"
    return f"{value} bytes"


def verifier_log_size(env: Mapping[str, str] | None = None) -> int:
    """verifier_log_size: how many bytes of a rejected program's log to keep
    ($PYBPFTOOL_VERIFIER_LOG_SIZE, else LOG_SIZE)."""
    text = (os.environ if env is None else env).get(LOG_SIZE_ENV)
    if not text:
        return LOG_SIZE
    return parse_size(text, LOG_SIZE_ENV, LOG_MIN, LOG_MAX)


# What BPF_MAP_CREATE reserves, by map type (kernel/bpf/*map*.c): hash tables their buckets
# (16 bytes, a power of two of them) and, unless BPF_F_NO_PREALLOC, every element; per-CPU
# values once per CPU; ring buffers max_entries bytes; tries and storages nothing up front.
HASHES = frozenset(
    {
        T.BPF_MAP_TYPE_HASH,
        T.BPF_MAP_TYPE_PERCPU_HASH,
        T.BPF_MAP_TYPE_LRU_HASH,
        T.BPF_MAP_TYPE_LRU_PERCPU_HASH,
        T.BPF_MAP_TYPE_HASH_OF_MAPS,
        T.BPF_MAP_TYPE_SOCKHASH,
        T.BPF_MAP_TYPE_DEVMAP_HASH,
    }
)
ALWAYS_PREALLOCATED = frozenset({T.BPF_MAP_TYPE_LRU_HASH, T.BPF_MAP_TYPE_LRU_PERCPU_HASH})
PER_CPU = frozenset(
    {
        T.BPF_MAP_TYPE_PERCPU_HASH,
        T.BPF_MAP_TYPE_PERCPU_ARRAY,
        T.BPF_MAP_TYPE_LRU_PERCPU_HASH,
        T.BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
    }
)
BYTE_SIZED = frozenset({T.BPF_MAP_TYPE_RINGBUF, T.BPF_MAP_TYPE_USER_RINGBUF})
NOTHING_UP_FRONT = frozenset({T.BPF_MAP_TYPE_LPM_TRIE, T.BPF_MAP_TYPE_ARENA})
BPF_F_NO_PREALLOC = 1
BUCKET = 16  # struct bucket: an hlist head and a lock


class MapBudget(NamedTuple):
    """MapBudget: the most `object verify` lets an object's maps reserve, each and together."""

    per_map: int = MAP_SIZE
    total: int = MAPS_TOTAL


DEFAULT_BUDGET = MapBudget()


def reserved_bytes(spec: MapSpec, cpus: int) -> int:
    """reserved_bytes: about what creating `spec` makes the kernel allocate at once."""
    if spec.type in BYTE_SIZED:
        return spec.max_entries
    if spec.type in NOTHING_UP_FRONT:
        return 0
    value = spec.value_size * (cpus if spec.type in PER_CPU else 1)
    if spec.type not in HASHES:
        return spec.max_entries * value
    buckets = BUCKET * (1 << max(spec.max_entries - 1, 0).bit_length())
    preallocated = spec.type in ALWAYS_PREALLOCATED or not spec.flags & BPF_F_NO_PREALLOC
    return buckets + (spec.max_entries * (spec.key_size + value) if preallocated else 0)


def check_budget(specs: Iterable[MapSpec], budget: MapBudget) -> None:
    """check_budget: refuse, naming the map, maps that would reserve more than `budget`."""
    cpus = os.cpu_count() or 1
    total = 0
    for spec in _with_inner(specs):
        size = reserved_bytes(spec, cpus)
        if size > budget.per_map:
            raise PyBpfError(
                f"map '{spec.name}' would reserve {format_size(size)} ({spec.max_entries} "
                f"entries of {spec.value_size} bytes); object verify creates maps of up to "
                f"{format_size(budget.per_map)} each",
                "Raise the limit with --max-map-size SIZE (and --max-maps-size SIZE for all maps).",
            )
        total += size
    if total > budget.total:
        raise PyBpfError(
            f"the object's maps would reserve {format_size(total)} in all; object verify "
            f"creates up to {format_size(budget.total)}",
            "Raise the limit with --max-maps-size SIZE.",
        )


def _with_inner(specs: Iterable[MapSpec]) -> Iterator[MapSpec]:
    """_with_inner: each map, and the throwaway inner template a map-in-map whose inner map
    is not one of the object's maps is created with."""
    specs = list(specs)
    names = {spec.name for spec in specs}
    for spec in specs:
        yield spec
        if spec.inner is not None and spec.inner.name not in names:
            yield spec.inner
