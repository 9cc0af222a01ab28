"""attach: turn a BpfSource into a program fd ready to attach, loading the object if needed.

The load is left uncommitted, in the command's LoadGroup: the command then calls
`group.commit(attach)` with the function that attaches (netlink request, graft), which runs
under the pin-folder locks once the new pins are published and the slots of pre-existing
maps written; if it fails, all of that is undone (loader/publish.py). A command that fails
before its commit calls discard(). The attach function reads `Prepared.fd` when it runs: the
commit may have loaded the object again, with new fds, after losing a publish race.
"""

# Annotations are evaluated here (no `from __future__ import annotations`): a NamedTuple
# field given as a string costs typing a compile() when the class is made.

import os
import sys
from typing import TYPE_CHECKING, NamedTuple

from pybpftool.api.objects import annotation, load_object_file, pinned_annotation
from pybpftool.cli.common.bpfsource import BpfSource
from pybpftool.errors import KernelError, PyBpfError
from pybpftool.kernel.fd import Fd
from pybpftool.loader.core import LoadedObject

if TYPE_CHECKING:
    from pybpftool.cli.common.context import RunContext
    from pybpftool.loader.publish import LoadGroup


class Prepared(NamedTuple):
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


def new_group() -> "LoadGroup":
    """new_group: the LoadGroup of one command: its loads commit together around one attach."""
    from pybpftool.loader.publish import LoadGroup

    return LoadGroup()


def prepare(
    run: "RunContext",
    source: BpfSource,
    prog_type: int,
    default_section: str,
    subdir: str,
    group: "LoadGroup | None" = None,
    ifindex: int = 0,
) -> Prepared:
    """prepare: the program of `source`, loaded as `prog_type` (or opened from its pin) the
    way pybpftool.load loads (api.objects.load_object_file), its load left pending in
    `group`, with its object parsed (and CO-RE target read) once per run; a console run
    confines its process first. With `ifindex` (xdpoffload, skip_sw) its maps and program
    are made for that device, as iproute2 makes them."""
    from pybpftool.kernel.bpf import Kernel

    kernel = Kernel()
    if run.confines:
        _confine(run, source)
    if source.mode == "pinned":
        return Prepared(pinned_annotation(source.path), pinned=open_pinned(source, subdir))
    from pybpftool.loader import LoadOptions

    section = source.section or default_section
    options = LoadOptions(
        prog_type=prog_type,
        section=section if source.program is None else None,
        program=source.program,
        subdir=subdir,
        verbose=source.verbose,
        report=_stderr_line,
        report_out=_stdout_line,
        open_target=run.open_target,
        memo=run.program_memo(),
        group=group,
        ifindex=ifindex,
    )
    loaded = load_object_file(kernel, source.path, options, True, parse=run.parse)
    assert loaded.main is not None
    return Prepared(annotation(source.path, section), loaded)


def _confine(run: "RunContext", source: BpfSource) -> None:
    """_confine: mount bpffs and, for a load that makes them, its folders (as iproute2 does),
    then enter the run's sandbox: read every file the run names (all the objects of a filter
    line and its actions, every line of a -batch), create and remove only beneath the pin
    root. The first call's domain stays; the policy is built once per run, the mount found
    and the folders made once per run (RunContext.bpffs_root)."""
    run.confine(run.bpffs_root(needs_work_dir(source)), [source.path])


def needs_work_dir(source: BpfSource) -> bool:
    """needs_work_dir: whether loading `source` makes the bpffs folders: bpf_get_work_dir()
    runs for an object, and for a pinned path only as `m:REST`."""
    return source.mode != "pinned" or _work_dir_path(source.path)


def open_pinned(source: BpfSource, subdir: str) -> Fd:
    """open_pinned: the program pinned at `source.path` (`m:REST` below the work dir, whose
    folders bpf_get_work_dir() makes first); iproute2's message if it cannot be opened."""
    from pybpftool.kernel.bpf import Kernel

    if _work_dir_path(source.path):
        from pybpftool.kernel.bpffs import ensure_mount, make_hierarchy

        make_hierarchy(ensure_mount())
    try:
        return Kernel().obj_get(expand_pin_path(source.path, subdir))
    except KernelError as err:
        raise PyBpfError(
            f"Couldn't retrieve pinned program '{source.path}': {os.strerror(err.errno)}"
        ) from None


def expand_pin_path(path: str, subdir: str) -> str:
    """expand_pin_path: `m:REST` is REST below the pin work dir (`<mnt>/<subdir>//REST`)."""
    if not _work_dir_path(path):
        return path
    from pybpftool.kernel.bpffs import ensure_mount
    from pybpftool.pinning import work_dir

    return f"{work_dir(ensure_mount(), subdir)}/{path[2:]}"


def _work_dir_path(path: str) -> bool:
    """_work_dir_path: bpf_obj_get() expands `m:REST` only when REST is not empty."""
    return len(path) > 2 and path.startswith("m:")


def _stdout_line(line: str) -> None:
    """_stdout_line: a report line iproute2 prints on stdout (a legacy map fixup)."""
    from pybpftool.cli.common.escape import terminal_safe

    sys.stdout.write(terminal_safe(line) + "\n")


def _stderr_line(line: str) -> None:
    """_stderr_line: one report line of the loader; a newline inside it (from a section or
    map name) is shown escaped, never as a line of its own."""
    from pybpftool.cli.common.escape import terminal_safe

    sys.stderr.write(terminal_safe(line) + "\n")
