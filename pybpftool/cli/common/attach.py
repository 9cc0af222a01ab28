"""attach: turn a BpfSource into a program fd ready to attach, loading the object if needed.

The load is left uncommitted, in the command's LoadGroup: the command then calls
`group.commit(attach)` with the function that attaches (netlink request, graft), which runs
under the pin-folder locks once the new pins are published and the slots of pre-existing
maps written; if it fails, all of that is undone (loader/publish.py). A command that fails
before its commit calls discard(). The attach function reads `Prepared.fd` when it runs: the
commit may have loaded the object again, with new fds, after losing a publish race.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pybpftool.api.objects import annotation, load_object_file, pinned_annotation
from pybpftool.cli.common.bpfsource import BpfSource
from pybpftool.cli.common.process import Process
from pybpftool.errors import KernelError, PyBpfError
from pybpftool.kernel.fd import Fd
from pybpftool.loader.core import LoadedObject
from pybpftool.spec import ObjectSpec

if TYPE_CHECKING:
    from pybpftool.btf.target import TargetBtf
    from pybpftool.loader.publish import LoadGroup


@dataclass
class Prepared:
    """Prepared: the program to attach (loaded from an object, its load pending in the
    command's LoadGroup, or opened from a pin) and its annotation."""

    annotation: str  # TCA_BPF_NAME: "file.o:[section]" or "pin:[*fsobj]"
    loaded: LoadedObject | None = None
    pinned: Fd | None = None  # a program opened from its pin

    @property
    def fd(self) -> Fd:
        """fd: the program's fd now (read it when the request is built, inside the commit)."""
        if self.loaded is not None:
            assert self.loaded.main is not None
            return self.loaded.main.fd
        assert self.pinned is not None
        return self.pinned

    def discard(self) -> None:
        """discard: undo the load (nothing published) and close every fd."""
        if self.loaded is not None:
            self.loaded.discard()
        self.close()

    def close(self) -> None:
        """close: after the commit, the fds go (the attached program and pins stay)."""
        if self.loaded is not None:
            self.loaded.close()
        if self.pinned is not None:
            self.pinned.close()


def new_group() -> LoadGroup:
    """new_group: the LoadGroup of one command: its loads commit together around one attach."""
    from pybpftool.loader.publish import LoadGroup

    return LoadGroup()


def prepare(
    source: BpfSource,
    prog_type: int,
    default_section: str,
    subdir: str,
    process: Process,
    group: LoadGroup | None = None,
) -> Prepared:
    """prepare: the program of `source`, loaded as `prog_type` (or opened from its pin) the
    way pybpftool.load loads (api.objects.load_object_file), its load left pending in
    `group`; a console `process` confines itself first."""
    from pybpftool.kernel.bpf import Kernel

    kernel = Kernel()
    if process.confines:
        confine_for([source.path])
    if source.mode == "pinned":
        path = expand_pin_path(source.path, subdir)
        try:
            fd = kernel.obj_get(path)
        except KernelError as err:
            raise PyBpfError(
                f"Couldn't retrieve pinned program '{source.path}': {os.strerror(err.errno)}"
            ) from None
        return Prepared(pinned_annotation(source.path), pinned=fd)
    from pybpftool.loader import LoadOptions

    section = source.section or default_section
    options = LoadOptions(
        prog_type=prog_type,
        section=section if source.program is None else None,
        program=source.program,
        subdir=subdir,
        verbose=source.verbose,
        report=_stderr_line,
        open_target=open_target_cached,
        group=group,
    )
    loaded = load_object_file(kernel, source.path, options, True, parse=parse_cached)
    assert loaded.main is not None
    return Prepared(annotation(source.path, section), loaded)


_parsed: dict[tuple[str, int, int, int], ObjectSpec] = {}


def parse_cached(path: str) -> ObjectSpec:
    """parse_cached: the ObjectSpec of `path`, parsed once per process while the file stays
    the same (a -batch of N lines for one object parses it once; each line still loads its
    own maps and program)."""
    from pybpftool.parser import parse_object

    try:
        st = os.stat(path)
    except OSError:
        return parse_object(path)  # let the parser report the problem in its words
    key = (os.path.realpath(path), st.st_ino, st.st_size, st.st_mtime_ns)
    spec = _parsed.get(key)
    if spec is None:
        spec = _parsed[key] = parse_object(path)
    return spec


_targets: dict[tuple[str, int, int, int], TargetBtf] = {}


def open_target_cached(path: str) -> TargetBtf:
    """open_target_cached: the CO-RE target BTF at `path`, read and indexed once per process
    while the file stays the same (the kernel's does), so a -batch pays for it once."""
    from pybpftool.loader.targetbtf import open_target

    try:
        st = os.stat(path)
    except OSError:
        return open_target(path)  # let it report the problem in its words
    key = (os.path.realpath(path), st.st_ino, st.st_size, st.st_mtime_ns)
    target = _targets.get(key)
    if target is None:
        target = _targets[key] = open_target(path)
    return target


def confine_first(named: list[str], process: Process) -> None:
    """confine_first: before the first load of a command that names several files (a filter
    and its actions), the sandbox with all of them readable. Nothing when the process is
    confined already (a later -batch line: its files were allowed with the batch's) or the
    sandbox is off; a failure (bpffs cannot be mounted, Landlock required but missing) is
    left to the load, which meets it again and reports it in its command's words."""
    import contextlib

    from pybpftool import sandbox

    with contextlib.suppress(PyBpfError):
        if process.confines and not sandbox.settled():
            confine_for(named)


def confine_for(named: list[str]) -> None:
    """confine_for: mount bpffs and its hierarchy (as iproute2 does for every load), then enter
    the sandbox: read the files the command names (`named`), create and remove only beneath
    the pin root. A command naming several objects calls it with all of them before its first
    load; the first call's domain stays, and later calls (a -batch's later lines) build no
    policy: it names every file of the batch, so building it per line would be quadratic."""
    from pybpftool import sandbox
    from pybpftool.kernel.bpffs import ensure_mount, make_hierarchy
    from pybpftool.pinning import PINNING_DB

    mount = ensure_mount()
    make_hierarchy(mount)
    if sandbox.settled():
        return
    inputs = [*named, PINNING_DB, *_batch_inputs()]
    sandbox.confine(sandbox.command_policy(inputs, mount))


def _batch_inputs() -> list[str]:
    """_batch_inputs: files a -batch may name on later lines (read before confinement)."""
    return list(BATCH_FILES)


BATCH_FILES: list[str] = []  # filled by the batch runner before the first line runs


def expand_pin_path(path: str, subdir: str) -> str:
    """expand_pin_path: `m:REST` is REST below the pin work dir (`<mnt>/<subdir>//REST`)."""
    if not path.startswith("m:"):
        return path
    from pybpftool.kernel.bpffs import ensure_mount
    from pybpftool.pinning import work_dir

    return f"{work_dir(ensure_mount(), subdir)}/{path[2:]}"


def _stderr_line(line: str) -> None:
    """_stderr_line: one report line of the loader; a newline inside it (from a section or
    map name) is shown escaped, never as a line of its own."""
    from pybpftool.cli.common.escape import terminal_safe

    sys.stderr.write(terminal_safe(line) + "\n")
