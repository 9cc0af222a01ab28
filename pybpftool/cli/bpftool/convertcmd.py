"""convertcmd: what `pybpftool object convert` needs around convert_object: the options, the
output file (made whole or not at all) and the report lines.

The output is written to a temporary file in OUT's folder, opened before the process confines
itself, and renamed over OUT only once the conversion succeeded; a refused or failed
conversion removes it, so OUT is never left half-written and an existing OUT is untouched.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import tempfile

from pybpftool.convert import (
    Conversion,
    ConvertOptions,
    Finding,
    PinChoice,
    Severity,
    TailCallMode,
)
from pybpftool.errors import ElfContextError, UsageError

DEFAULT_UMASK = 0o022


def convert_options(
    object_ns_pins: str | None, custom_pins: str | None, tail_calls: str | None
) -> ConvertOptions:
    """convert_options: the command line's choices (click checked their spelling)."""
    return ConvertOptions(
        PinChoice(object_ns_pins) if object_ns_pins else None,
        PinChoice(custom_pins) if custom_pins else None,
        TailCallMode(tail_calls) if tail_calls else None,
    )


def read_object(path: str) -> bytes:
    """read_object: the bytes of the object at `path` (iproute2's wording on failure)."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as err:
        raise ElfContextError(f"{path}: {err.strerror or err}") from None


class OutputFile:
    """OutputFile: a temporary file next to `path` that becomes `path` on commit()."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.folder = os.path.dirname(os.path.abspath(path))
        try:
            self.fd, self.temp = tempfile.mkstemp(
                prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=self.folder
            )
        except OSError as err:
            raise UsageError(f"cannot write {path}: {err.strerror or err}") from None

    def commit(self, data: bytes) -> None:
        """commit: write `data` and rename the file over `path`, with `path`'s permissions if
        it exists, else those a new file gets (0666 less the umask)."""
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]
            os.fchmod(self.fd, _mode_for(self.path))
            os.close(self.fd)
            self.fd = -1
            os.replace(self.temp, self.path)
        except OSError as err:
            self.discard()
            raise UsageError(f"cannot write {self.path}: {err.strerror or err}") from None

    def discard(self) -> None:
        """discard: remove the temporary file (OUT itself is untouched)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.temp)


def _mode_for(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """_umask: this process's umask, read without setting it (/proc/self/status)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return DEFAULT_UMASK


def report_lines(conversion: Conversion, output: str | None) -> list[str]:
    """report_lines: each finding, refusals first, then the grafts left to `tc exec bpf
    graft` (with OUT named, when there is one)."""
    order = {Severity.REFUSED: 0, Severity.CHANGED: 1, Severity.NOTE: 2}
    findings: list[Finding] = sorted(conversion.findings, key=lambda f: order[f.severity])
    lines = [f.line() for f in findings]
    obj = shlex.quote(output) if output else "OUT"
    for g in conversion.grafts:
        where = f"m:globals/{g.map} key {g.key}"
        lines.append(f"graft: tc exec bpf graft {where} obj {obj} sec {shlex.quote(g.section)}")
    return lines
