"""C's number readers as iproute2 uses them: strtod() behind tc's sizes (get_size), the
device names tc keeps of a `dev` word. Expected values are what glibc and tc 6.1 give."""

from __future__ import annotations

import math

import pytest

from pybpftool.cli.common.ifnames import tc_dev_name
from pybpftool.cli.tc.qdisc import size_value
from pybpftool.cscan import c_strtod


@pytest.mark.parametrize(
    ("text", "value", "end"),
    [
        ("0x10", 16.0, 4),  # hex, as glibc's strtod reads it
        ("010", 10.0, 3),  # never octal
        ("08", 8.0, 2),
        ("-1", -1.0, 2),
        ("1e3", 1000.0, 3),
        ("1e", 1.0, 1),  # an exponent without digits is left unread
        ("0x", 0.0, 1),  # the 0 only
        ("0x1p4", 16.0, 5),
        ("0x.8", 0.5, 4),
        (" \t12kb", 12.0, 4),
        (".5", 0.5, 2),
        ("5.", 5.0, 2),
        ("abc", 0.0, 0),
        ("", 0.0, 0),
    ],
)
def test_strtod_reads_what_glibc_reads(text: str, value: float, end: int) -> None:
    assert c_strtod(text) == (value, end)


def test_strtod_reads_inf_and_nan() -> None:
    assert c_strtod("-Infinity") == (-math.inf, 9)
    got, end = c_strtod("nan(x1)")
    assert math.isnan(got) and end == 7


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0x10", 16),  # `pfifo limit 0x10` is 16, as in tc
        ("010", 10),
        ("1e3", 1000),
        ("12kb", 12288),
        ("0x1Gb", 1 << 30),
        ("1.9", 1),  # the fraction is cut
        ("-0.5", 0),
        ("4294967295", 4294967295),
        ("4294967296", None),  # past UINT_MAX
        ("-1", None),
        ("inf", None),
        ("1e", None),  # `e` is no unit
        ("x", None),
    ],
)
def test_sizes_as_get_size_reads_them(text: str, size: int | None) -> None:
    assert size_value(text) == size


@pytest.mark.parametrize(
    ("word", "kept"),
    [
        ("v0", "v0"),
        ("abcdefghijklmnopq", "abcdefghijklmno"),  # strncpy(d, *argv, IFNAMSIZ - 1)
        ("", None),  # d[0] == 0: no device
        (" a0", " a0"),  # tc does not check names
        ("ééééééééé", "ééééééé\udcc3"),  # 15 bytes, cut inside a character
    ],
)
def test_tc_keeps_fifteen_bytes_of_a_device_name(word: str, kept: str | None) -> None:
    assert tc_dev_name(word) == kept
