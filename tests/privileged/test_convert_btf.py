"""The BTF a conversion writes is one the kernel accepts (BPF_BTF_LOAD), whether it extends
the object's own or is made from nothing: libbpf loads it to give maps their key and value
types and programs their func_info, and quietly drops it if the kernel refuses it.

Loaders first fill in the sizes and offsets clang leaves 0 in the DATASECs of other sections
(libbpf btf_fixup_datasec; the object's own `license` DATASEC, for one): the test loads the
BTF as our parser fixes it up, the `.maps` DATASEC as the converter wrote it."""

from __future__ import annotations

import sys

import bpfobjs
import pytest

from pybpftool.convert import ConvertOptions, PinChoice, TailCallMode, convert_object
from pybpftool.kernel.bpf import Kernel
from pybpftool.parser import parse_object

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
EVERYTHING = ConvertOptions(PinChoice.GLOBAL, PinChoice.GLOBAL, TailCallMode.STATIC)
OBJECTS = [
    ("legacy_maps", ()),
    ("legacy_maps", ("-g0",)),
    ("mixed_maps", ()),
    ("iproute2/map_in_map", ()),
    ("iproute2/shared", ()),
    ("iproute2/tailcall", ()),
]


@pytest.mark.parametrize(("name", "flags"), OBJECTS)
def test_the_kernel_accepts_the_converted_btf(name: str, flags: tuple[str, ...]) -> None:
    data = bpfobjs.build(name, HOST, *flags).read_bytes()
    btf = parse_object(convert_object(data, EVERYTHING).output()).btf
    assert btf is not None
    maps = btf.datasec(".maps")
    assert maps is not None and maps.size > 0  # written, not left to the fixups
    result = Kernel().btf_load(btf.raw, log_level=1, log_size=1 << 20)
    try:
        assert result.fd is not None, result.log
    finally:
        if result.fd is not None:
            result.fd.close()
