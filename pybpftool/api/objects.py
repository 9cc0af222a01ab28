"""objects: `pybpftool.load` and what it returns: a Collection of Programs and Maps.

The load is the loader's (loader.core.load_object), with iproute2's rules: every map of the
object is created or adopted from its pin (legacy `struct bpf_elf_map` and BTF maps alike),
pins go where iproute2 puts them beneath the pin root, the entry program of the section is
loaded with its tail calls and the programs named in static prog-array slots, and any failure
undoes all of it. pyip and pytc load through `load_object_file` too (cli/common/attach.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from pybpftool.api.args import bytes_arg, path_arg, str_arg
from pybpftool.errors import ClosedError, ObjectError, UsageError, VerifierError
from pybpftool.kernel.fd import Fd
from pybpftool.uapi import BpfMapType, BpfProgType, map_type_name, prog_type_name

if TYPE_CHECKING:
    from collections.abc import Callable

    from pybpftool.kernel.bpf import Kernel
    from pybpftool.loader import LoadedObject, LoadOptions
    from pybpftool.spec import ObjectSpec

StrPath = str | os.PathLike[str]

# Maps whose value holds one value_size slot (rounded up to 8 bytes) per possible CPU.
PER_CPU = frozenset(
    {
        BpfMapType.BPF_MAP_TYPE_PERCPU_HASH,
        BpfMapType.BPF_MAP_TYPE_PERCPU_ARRAY,
        BpfMapType.BPF_MAP_TYPE_LRU_PERCPU_HASH,
        BpfMapType.BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
    }
)


def annotation(path: str, section: str) -> str:
    """annotation: TCA_BPF_NAME of a program loaded from an object: `file.o:[section]` (tc)."""
    return f"{os.path.basename(path)}:[{section}]"


def pinned_annotation(path: str) -> str:
    """pinned_annotation: TCA_BPF_NAME of a program opened from its pin: `name:[*fsobj]`."""
    return f"{os.path.basename(path)}:[*fsobj]"


def load_object_file(
    kernel: Kernel,
    path: str,
    options: LoadOptions,
    defer_commit: bool,
    parse: Callable[[str], ObjectSpec] | None = None,
) -> LoadedObject:
    """load_object_file: parse the object at `path` (with `parse`, say a cache) and load it:
    the one way from an object file to loaded programs, for the API and pyip/pytc alike."""
    from pybpftool.loader import load_object

    if parse is None:
        from pybpftool.parser import parse_object

        parse = parse_object
    return load_object(kernel, parse(path), options, defer_commit=defer_commit)


class Program:
    """Program: a loaded BPF program; its fd belongs to the Collection it came from.

    `fd` (int), `id` and `tag` (hex, as bpftool prints it) are the kernel's; `name` is the
    program's function name, `section` its ELF section, `type` the kernel's name of its
    program type (`sched_cls`, `xdp`, ...).
    """

    __slots__ = ("_fd", "annotation", "id", "name", "section", "tag", "type")

    def __init__(self, fd: Fd, name: str, section: str, annotation: str, kernel: Kernel) -> None:
        info = kernel.prog_info(fd)
        self._fd = fd
        self.name = name
        self.section = section
        self.annotation = annotation  # what tc filters show as the program's name
        self.id: int = info.id
        self.tag: str = info.tag
        self.type: str = prog_type_name(info.type)

    @property
    def fd(self) -> int:
        """fd: the program's file descriptor; ClosedError once its Collection is closed."""
        return int(live(self._fd, f"program {self.name}"))

    def pin(self, path: StrPath) -> None:
        """pin: pin the program at `path` on a bpffs (it then outlives the Collection)."""
        from pybpftool.kernel.bpf import Kernel

        fd = live(self._fd, f"program {self.name}")
        Kernel().obj_pin(fd, path_arg("path", path))

    def __repr__(self) -> str:
        return f"<Program {self.name!r} {self.type} id {self.id} tag {self.tag}>"


class Map:
    """Map: a map of a loaded object, read and written through bpf(2).

    Keys and values are bytes of exactly `key_size` and `value_size` bytes, as the kernel
    stores them (pack them with `struct` or `int.to_bytes(n, sys.byteorder)`). For per-CPU
    maps a value is one `value_size` slot, rounded up to 8 bytes, per possible CPU.
    `pin_path` is where the map is pinned by the object's pinning, None if it is not.
    """

    __slots__ = (
        "_fd",
        "_value_bytes",
        "flags",
        "id",
        "key_size",
        "max_entries",
        "name",
        "pin_path",
        "type",
        "value_size",
    )

    def __init__(self, fd: Fd, name: str, pin_path: str | None, kernel: Kernel) -> None:
        info = kernel.map_info(fd)
        self._fd = fd
        self.name = name
        self.pin_path = pin_path
        self.id: int = info.id
        self.type: str = map_type_name(info.type)
        self.key_size: int = info.key_size
        self.value_size: int = info.value_size
        self.max_entries: int = info.max_entries
        self.flags: int = info.map_flags
        self._value_bytes = self.value_size
        if info.type in PER_CPU:
            self._value_bytes = (self.value_size + 7) // 8 * 8 * possible_cpus()

    @property
    def fd(self) -> int:
        """fd: the map's file descriptor; ClosedError once its Collection is closed."""
        return int(self._live())

    def lookup(self, key: bytes) -> bytes | None:
        """lookup: the value stored under `key`, None if there is none."""
        from pybpftool.kernel.bpf import Kernel

        data = self._key(key)
        return Kernel().map_lookup(self._live(), data, self._value_bytes)

    def update(self, key: bytes, value: bytes, flags: int = 0) -> None:
        """update: store `value` under `key`; `flags` BPF_ANY (0), BPF_NOEXIST (1) or
        BPF_EXIST (2) as bpf(2) takes them."""
        from pybpftool.kernel.bpf import Kernel

        data = self._key(key)
        value_data = bytes_arg(f"map {self.name}: a value", value, self._value_bytes)
        if isinstance(flags, bool) or not isinstance(flags, int):
            raise UsageError(f"map {self.name}: flags must be an int, not {flags!r}")
        Kernel().map_update(self._live(), data, value_data, flags)

    def delete(self, key: bytes) -> bool:
        """delete: remove `key`; False if it was not there (arrays cannot delete: KernelError)."""
        from pybpftool.kernel.bpf import Kernel

        data = self._key(key)
        return Kernel().map_delete(self._live(), data)

    def keys(self) -> Iterator[bytes]:
        """keys: every key, in the kernel's order (BPF_MAP_GET_NEXT_KEY)."""
        from pybpftool.kernel.bpf import Kernel

        kernel = Kernel()
        key = kernel.map_next_key(self._live(), None, self.key_size)
        while key is not None:
            yield key
            key = kernel.map_next_key(self._live(), key, self.key_size)

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """items: (key, value) of every entry; one removed meanwhile is skipped."""
        for key in self.keys():
            value = self.lookup(key)
            if value is not None:
                yield key, value

    def pin(self, path: StrPath) -> None:
        """pin: pin the map at `path` on a bpffs (it then outlives the Collection)."""
        from pybpftool.kernel.bpf import Kernel

        fd = self._live()
        Kernel().obj_pin(fd, path_arg("path", path))

    def _live(self) -> Fd:
        return live(self._fd, f"map {self.name}")

    def _key(self, key: bytes) -> bytes:
        return bytes_arg(f"map {self.name}: a key", key, self.key_size)

    def __repr__(self) -> str:
        return f"<Map {self.name!r} {self.type} id {self.id}>"


def live(fd: Fd, what: str) -> Fd:
    """live: `fd` while it is open; ClosedError naming `what` once its Collection closed it."""
    if fd.closed:
        raise ClosedError(f"{what}: its Collection is closed")
    return fd


def possible_cpus(path: str = "/sys/devices/system/cpu/possible") -> int:
    """possible_cpus: how many CPUs per-CPU map values cover (`0-3,5` -> 6), as libbpf
    counts them."""
    with open(path) as f:
        text = f.read().strip()
    count = 0
    for part in filter(None, text.split(",")):
        low, _, high = part.partition("-")
        count += int(high or low) - int(low) + 1
    return count


class Collection:
    """Collection: the programs and maps of one `pybpftool.load`.

    `programs` and `maps` map names to Program and Map; `program` is the entry program of the
    section. A context manager: leaving it (or close()) closes every fd; pins stay as the
    object declared them, and an attached program stays attached.
    """

    def __init__(self, loaded: LoadedObject, path: str, section: str, kernel: Kernel) -> None:
        self._loaded = loaded
        self._closed = False
        self.path = path
        self.section = section
        note = annotation(path, section)
        self.programs: dict[str, Program] = {}
        for prog in loaded.programs:
            name = prog.spec.name or prog.spec.section
            self.programs[name] = Program(prog.fd, name, prog.spec.section, note, kernel)
        self.maps: dict[str, Map] = {
            name: Map(m.fd, name, m.pin_path and os.path.normpath(m.pin_path), kernel)
            for name, m in loaded.maps.items()
        }
        assert loaded.main is not None
        self.program: Program = self.programs[loaded.main.spec.name or loaded.main.spec.section]

    @property
    def closed(self) -> bool:
        """closed: close() has run; the fds of its programs and maps are gone."""
        return self._closed

    def close(self) -> None:
        """close: close every fd of the collection (idempotent)."""
        self._closed = True
        self._loaded.close()

    def __enter__(self) -> Collection:
        if self._closed:
            raise ClosedError(f"collection of {self.path}: it is closed")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<Collection {self.path!r} [{self.section}]{state}: {len(self.programs)} programs>"


def load(
    path: StrPath,
    *,
    section: str | None = None,
    prog_type: str | None = None,
    pin_root: StrPath | None = None,
) -> Collection:
    """load: create the maps and load the programs of the BPF object at `path`, as one
    transaction with iproute2's rules (legacy and BTF maps; a failure leaves nothing).

    `section` is the ELF section of the entry program (default: the object's only section
    that is not a tail call). `prog_type` is a kernel name (`"sched_cls"`, `"xdp"`, ...) and
    is needed when the section name gives none (iproute2's `classifier`, `action`, `prog`);
    every program of the load gets that type. Pinned maps go beneath `pin_root` in iproute2's
    layout (`tc/globals/NAME`, `tc/<object sha1>/NAME`), default `$TC_BPF_MNT` or
    /sys/fs/bpf, mounted there when it is no bpffs yet; a compatible existing pin is reused.

    Raises ObjectError (unreadable or malformed object, section missing), PinError (bpffs
    trouble, incompatible pinned map), VerifierError (with the verifier's log) and
    KernelError (other bpf(2) refusals).
    """
    from pybpftool.kernel.bpf import Kernel
    from pybpftool.loader import LoadOptions
    from pybpftool.parser import parse_object
    from pybpftool.pinning import SUBDIR_TC, SUBDIR_XDP

    file = path_arg("path", path)
    if section is not None:
        str_arg("section", section)
    if prog_type is not None:
        str_arg("prog_type", prog_type)
    env: Mapping[str, str] | None = None
    if pin_root is not None:
        env = {**os.environ, "TC_BPF_MNT": path_arg("pin_root", pin_root)}
    spec = parse_object(file)
    entry = section if section is not None else entry_section(spec)
    forced = _program_type(spec, entry, prog_type)
    options = LoadOptions(
        prog_type=forced,
        section=entry,
        subdir=SUBDIR_XDP if forced == BpfProgType.BPF_PROG_TYPE_XDP else SUBDIR_TC,
        env=env,
        report=_log,
    )
    kernel = Kernel()
    # Committed by the load itself: a commit may load again (a lost race to publish a pin,
    # issue 16), so the Collection is built from what the commit left.
    try:
        loaded = load_object_file(kernel, file, options, False, parse=lambda _path: spec)
    except VerifierError as err:
        raise _rejection(err) from None
    try:
        return Collection(loaded, file, entry, kernel)
    except BaseException:
        loaded.close()
        raise


def entry_section(spec: ObjectSpec) -> str:
    """entry_section: the one section of `spec` with a program that is not a tail call:
    neither an iproute2 `ID/KEY` section nor named in a static prog-array slot."""
    from pybpftool.tailcalls import parse_tail_call_section

    array = BpfMapType.BPF_MAP_TYPE_PROG_ARRAY
    named = {prog for m in spec.maps if m.type == array for _key, prog in m.contents}
    sections: dict[str, None] = {}
    for prog in spec.programs:
        if parse_tail_call_section(prog.section) is None and prog.name not in named:
            sections.setdefault(prog.section, None)
    if len(sections) == 1:
        return next(iter(sections))
    if not sections:
        raise ObjectError("object file has no entry program")
    raise ObjectError(
        f"object file has {len(sections)} entry sections ({', '.join(sections)}): "
        "choose one with section="
    )


def _program_type(spec: ObjectSpec, section: str, prog_type: str | None) -> int | None:
    """_program_type: the type every program of the load gets: `prog_type`, else the one
    the entry section's name gives (None: the loader reports the section missing)."""
    from pybpftool.uapi import prog_type_from_name

    if prog_type is not None:
        try:
            if prog_type == "unspec":  # BPF_PROG_TYPE_UNSPEC: a name, but no type to load
                raise ValueError(prog_type)
            return int(prog_type_from_name(prog_type))
        except (ValueError, AttributeError):
            known = ", ".join(prog_type_name(t) for t in BpfProgType if t)
            raise UsageError(f"unknown program type {prog_type!r}", f"Known: {known}") from None
    main = next((p for p in spec.programs if p.section == section), None)
    if main is None:
        return None
    if main.type is None:
        raise ObjectError(
            f"section '{section}' names no program type: give one with prog_type= "
            '("sched_cls", "xdp", ...)'
        )
    return main.type


def _rejection(err: VerifierError) -> VerifierError:
    """_rejection: the loader's VerifierError in a library's words. Its message is
    iproute2's last line (`Error fetching program/map!`, which pytc prints as tc does); a
    caller's str(err) names the program and the verifier's reason instead. Log, errno,
    program and iproute2's report lines (`details`) stay."""
    skip = ("processed ", "verification time", "stack depth", "max_states_per_insn")
    lines = [line.strip() for line in err.log.splitlines()]
    reasons = [line for line in lines if line and not line.startswith(skip)]
    reason = f": {reasons[-1]}" if reasons else ""
    message = f"program {err.program} rejected by the verifier: {os.strerror(err.errno)}{reason}"
    return VerifierError(err.program, err.errno, message, err.log, err.hint, err.details)


def _log(line: str) -> None:
    """_log: the loader's warnings (bpf_pinning file trouble, ...) to the `pybpftool` logger."""
    import logging

    logging.getLogger("pybpftool").warning("%s", line)
