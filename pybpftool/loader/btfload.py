"""btfload: the object's BTF into the kernel, sanitized if need be, never fatal (libbpf).

First the blob as parsed (DATASECs already fixed up); if the kernel refuses it, the sanitized
copy (btf/fixup.py) that older kernels accept; if that fails too, or no sanitized copy can be
made, the object loads without BTF: maps lose their typed keys and values, programs their
func and line info. With verbose, the refusal is reported the way iproute2 does.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from typing import Protocol

from pybpftool.btf.fixup import sanitize
from pybpftool.errors import ObjectError
from pybpftool.kernel.bpf import BPF_LOG_LEVEL1, LoadResult
from pybpftool.kernel.fd import Fd
from pybpftool.spec import ObjectSpec

BTF_LOG_SIZE = 1 << 20
LOG_START = 1 << 16  # iproute2's verbose log buffer


class BtfKernel(Protocol):
    def btf_load(self, blob: bytes, log_level: int = 0, log_size: int = 0) -> LoadResult: ...


def load_btf(
    kernel: BtfKernel, spec: ObjectSpec, report: Callable[[str], None], verbose: bool = False
) -> Fd | None:
    """load_btf: an fd of the object's BTF in the kernel, or None when it has none or is refused."""
    if spec.btf is None:
        return None
    if verbose:
        from pybpftool.loader.report import btf_loaded  # what `verbose` prints, only then

        logged = _load_logged(kernel, spec.btf.raw)
        if logged.fd is not None:
            for line in btf_loaded(int(logged.fd), len(spec.btf.raw), logged.log):
                report(line)
            return logged.fd
    result = kernel.btf_load(spec.btf.raw)
    if result.fd is not None:
        return result.fd
    try:
        sanitized = sanitize(spec.btf)
    except ObjectError as err:  # as if the sanitized copy were refused too
        if verbose:
            report(f"BTF: {err.message}")
    else:
        retry = kernel.btf_load(sanitized)
        if retry.fd is not None:
            if verbose:
                report("BTF: the kernel refused some type kinds; loaded a sanitized copy")
            return retry.fd
    if verbose:
        logged = kernel.btf_load(spec.btf.raw, BPF_LOG_LEVEL1, BTF_LOG_SIZE)
        if logged.fd is not None:  # accepted after all: keep it
            return logged.fd
        lines = (
            "",
            f"BTF debug data section '.BTF' rejected: {os.strerror(result.errno)} "
            f"({result.errno})!",
            f" - Length:       {len(spec.btf.raw)}",
            "Verifier analysis:",
            "",
            *logged.log.split("\n"),
        )
        for line in lines:  # one line per call: a report line never holds a newline
            report(line)
    return None


def _load_logged(kernel: BtfKernel, blob: bytes) -> LoadResult:
    """_load_logged: BTF_LOAD with iproute2's verbose log (64 KiB, level 1), once more with
    BTF_LOG_SIZE bytes if that did not hold it (bounded: a log that does not fit there
    either leaves the load to the quiet way below)."""
    result = kernel.btf_load(blob, BPF_LOG_LEVEL1, LOG_START)
    if result.fd is None and result.errno == errno.ENOSPC:
        result = kernel.btf_load(blob, BPF_LOG_LEVEL1, BTF_LOG_SIZE)
    return result
