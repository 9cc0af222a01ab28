"""pinning: iproute2's pin-path policy as pure string functions (spec/iproute2.md §2.4).

Mirrors iproute2 lib/bpf_legacy.c bpf_get_work_dir / bpf_make_pathname / bpf_hash_init. The
paths are the literal strings iproute2 builds, `//` included (the work dir ends in `/` and is
joined with another `/`), because they appear in messages users grep for:

- PIN_OBJECT_NS              `<mnt>/<subdir>//<sha1 of the object>/<name>`
- PIN_GLOBAL_NS, BTF by_name `<mnt>/<subdir>//globals/<name>`
- custom id (bpf_pinning)    `<mnt>/<subdir>//../<subpath>/<name>`

`subdir` is `tc` for classifiers and actions, `xdp` for XDP, `ip` for lwt; `xdp` and `ip` are
symlinks to `tc`, so every program type shares one `globals` namespace.
"""

# Annotations are evaluated here (no `from __future__ import annotations`): a NamedTuple
# field given as a string costs typing a compile() when the class is made.

from typing import TYPE_CHECKING, NamedTuple

from pybpftool.cscan import scan_c_int
from pybpftool.errors import PinError

if TYPE_CHECKING:
    from pybpftool.spec import MapSpec

PINNING_DB = "/etc/iproute2/bpf_pinning"
GLOBALS_DIR = "globals"
NAME_MAX = 255
# New pins wait under this prefix until they are complete (kernel/pindir.py); no map may use it.
TEMP_PREFIX = "pybpftool-tmp-"
PIN_GLOBAL_NS = 2

SUBDIR_TC, SUBDIR_XDP, SUBDIR_IP = "tc", "xdp", "ip"


class PinningDb(NamedTuple):
    """PinningDb: custom pinning ids -> sub-path, plus the warnings reading it produced."""

    entries: dict[int, str]
    warnings: tuple[str, ...] = ()


def work_dir(mount: str, subdir: str) -> str:
    """work_dir: `<mnt>/<subdir>/`, with the trailing slash iproute2 keeps."""
    return f"{mount.rstrip('/')}/{subdir}/"


def check_pin_name(name: str) -> None:
    """check_pin_name: refuse names bpffs or path joining would misread.

    bpffs refuses names with a dot (kernel/bpf/inode.c bpf_lookup); a slash or `..` would
    escape the pin folder; control characters would corrupt messages and listings.
    """
    problem = None
    if not name:
        problem = "is empty"
    elif len(name.encode()) > NAME_MAX:
        problem = f"is longer than {NAME_MAX} bytes"
    elif "/" in name:
        problem = "contains '/'"
    elif "." in name:
        problem = "contains '.', which bpffs refuses"
    elif not name.isprintable():
        problem = "contains control characters"
    elif name.startswith(TEMP_PREFIX):
        problem = f"starts with {TEMP_PREFIX!r}, which pybpftool keeps for unfinished pins"
    if problem:
        raise PinError(f"cannot pin map {name!r}: its name {problem}")


def check_sub_path(sub: str) -> None:
    """check_sub_path: a custom pinning sub-path stays below the bpffs mount."""
    parts = sub.split("/")
    if sub.startswith("/") or any(p in ("", ".", "..") for p in parts) or not sub.isprintable():
        raise PinError(f"custom pinning path {sub!r} must be relative, without '..' or '//'")


def map_pin_path(spec: "MapSpec", wd: str, obj_sha1: str, db: PinningDb) -> str | None:
    """map_pin_path: where `spec` is pinned, or None when it is not pinned.

    A custom id missing from the database means "not pinned", as in iproute2.
    """
    # Imported here: kernel/pindir (and through it every bpf(2) user, `filter show` too)
    # reads TEMP_PREFIX from this module, and the spec's dataclasses cost them ~10 ms.
    from pybpftool.spec import Pinning

    if spec.pinning is Pinning.NONE:
        return None
    check_pin_name(spec.name)
    if spec.pinning is Pinning.OBJECT_NS:
        return f"{wd}/{obj_sha1}/{spec.name}"
    if spec.pinning in (Pinning.GLOBAL_NS, Pinning.BY_NAME):
        return f"{wd}/{GLOBALS_DIR}/{spec.name}"
    sub = db.entries.get(spec.pin_id)
    if sub is None:
        return None
    check_sub_path(sub)
    return f"{wd}/../{sub}/{spec.name}"


def parse_pinning_db(text: str, path: str = PINNING_DB) -> PinningDb:
    """parse_pinning_db: read `ID SUBPATH [# comment]` lines (iproute2 bpf_hash_init).

    Blank and `#` lines are skipped; ids 0-2 are reserved and ignored with a warning; the
    first malformed line stops reading, with a warning, keeping what was read before.
    """
    entries: dict[int, str] = {}
    warnings: list[str] = []
    for line in text.splitlines():
        stripped = line.lstrip(" \t")
        if not stripped or stripped.startswith("#"):
            continue
        parsed = _id_and_path(stripped)
        if parsed is None:
            warnings.append(f"Database {path} is corrupted at: {stripped}")
            break
        key, sub = parsed
        if key <= PIN_GLOBAL_NS:
            warnings.append(f"Database {path}, id {key} is reserved - ignoring!")
            continue
        entries[key] = sub
    return PinningDb(entries, tuple(warnings))


def _id_and_path(line: str) -> tuple[int, str] | None:
    number = scan_c_int(line, 0)
    if number is None:
        return None
    value, pos = number
    words = line[pos:].split()
    if not words or pos == len(line) or line[pos] not in " \t":
        return None
    return value & 0xFFFFFFFF, words[0]
