"""targetbtf: find, read and index the target BTF of CO-RE relocations, with a disk cache.

The target is `/sys/kernel/btf/vmlinux`, or the file named by `--btf` (pybpftool object
verify) or by $PYBPFTOOL_TARGET_BTF. Its index (btf/target.py) is cached in a folder only root
can write, $PYBPFTOOL_CACHE_DIR or /var/cache/pybpftool, one file per key. A cache folder that
is not root's and private is not used at all; a cache file that does not decode, or belongs to
another key, is rebuilt. Writing the cache is best effort: a read-only or sandboxed folder
only costs the next run the same rebuild.

The key of a file is the SHA-256 of its content. The key of the running kernel's BTF is the
kernel's GNU build ID (in /sys/kernel/notes) and the BTF's size: that BTF is a section of the
kernel image, fixed until another kernel boots, and the build ID is the linker's SHA-1 of the
image, so another kernel (or the same one rebuilt with other types) has another key. It spares
a warm run hashing 5 MB and importing OpenSSL (3 and 3 ms here). A kernel without the note
falls back to the content hash.
"""

from __future__ import annotations

import contextlib
import os
import stat
import struct
from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

from pybpftool.errors import FsAccess, ObjectError

if TYPE_CHECKING:  # the sandbox policy imports this module; indexing loads only when used
    from pybpftool.btf.target import TargetBtf, TargetIndex

ENV_TARGET = "PYBPFTOOL_TARGET_BTF"
ENV_CACHE = "PYBPFTOOL_CACHE_DIR"
KERNEL_BTF = "/sys/kernel/btf/vmlinux"
KERNEL_NOTES = "/sys/kernel/notes"  # the kernel image's ELF notes, its build ID among them
NT_GNU_BUILD_ID = 3
DEFAULT_CACHE = "/var/cache/pybpftool"
PREFIX, SUFFIX = "btf-index-", ".bin"
KEEP = 4  # index files kept: a few kernels (or custom targets) in turn stay warm


def target_path(explicit: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """target_path: the target BTF file: `explicit`, else $PYBPFTOOL_TARGET_BTF, else the
    running kernel's."""
    env = os.environ if env is None else env
    return explicit or env.get(ENV_TARGET) or KERNEL_BTF


def cache_dir(env: Mapping[str, str] | None = None, create: bool = False) -> str | None:
    """cache_dir: the index cache folder if it can be trusted (a real folder, owned by root,
    writable by nobody else); with `create`, made (0700) when missing and we are root."""
    env = os.environ if env is None else env
    path = env.get(ENV_CACHE) or DEFAULT_CACHE
    if create and os.geteuid() == 0:
        try:
            os.makedirs(path, 0o700, exist_ok=True)
        except OSError:
            return None
    try:
        st = os.lstat(path)
    except OSError:
        return None
    trusted = stat.S_ISDIR(st.st_mode) and st.st_uid == 0 and not st.st_mode & 0o022
    return path if trusted else None


def open_target(path: str, env: Mapping[str, str] | None = None) -> TargetBtf:
    """open_target: the target BTF at `path`, its index from the cache or built (and cached)."""
    from pybpftool.btf.target import TargetBtf, digest, encode

    try:
        raw = read_target(path)
    except OSError as err:
        raise ObjectError(
            f"cannot read target BTF {path}: {err.strerror}", access=FsAccess("read_file", path)
        ) from None
    build_id = kernel_build_id() if path == KERNEL_BTF else None
    key = f"vmlinux-{build_id}-{len(raw)}" if build_id else digest(raw)
    folder = cache_dir(env)
    cached = _read_cache(folder, key) if folder is not None else None
    if cached is not None:
        try:
            return TargetBtf(raw, cached)
        except ObjectError:
            pass  # the index does not fit this blob after all: rebuild it
    try:
        target = TargetBtf(raw)
    except ObjectError as err:
        raise ObjectError(f"target BTF {path}: {err.message}") from None
    if folder is not None:
        _write_cache(folder, key, encode(target.index, key))
    return target


def read_target(path: str) -> bytes:
    """read_target: the bytes of the target BTF at `path`. The kernel's is mapped, not read,
    where the kernel allows it (read-only and private, Linux 6.16 on): sysfs reads it out 4 KiB
    at a time into a fresh 5 MB buffer (5 ms here), while a warm CO-RE load touches only its
    strings and the few types it looks up."""
    with open(path, "rb") as f:
        if path == KERNEL_BTF:
            import mmap

            try:
                mapped = mmap.mmap(f.fileno(), 0, mmap.MAP_PRIVATE, mmap.PROT_READ)
            except (OSError, ValueError):
                pass  # an older kernel: read it
            else:
                # BtfSpec takes it as bytes: it only indexes, slices, finds and unpacks it,
                # which a mapping does alike (and the mapping outlives the closed file).
                return cast(bytes, mapped)
        return f.read()


def kernel_build_id(notes: str = KERNEL_NOTES) -> str | None:
    """kernel_build_id: the running kernel's GNU build ID in hex, None when it has none (or
    the notes cannot be read)."""
    try:
        with open(notes, "rb") as f:
            data = f.read()
    except OSError:
        return None
    pos = 0
    while pos + 12 <= len(data):  # Elf_Nhdr: namesz, descsz, type; name, desc 4-aligned
        namesz, descsz, kind = struct.unpack_from("=III", data, pos)
        name_at = pos + 12
        desc_at = name_at + (namesz + 3) // 4 * 4
        pos = desc_at + (descsz + 3) // 4 * 4
        if pos > len(data):
            return None
        if kind == NT_GNU_BUILD_ID and data[name_at : name_at + namesz] == b"GNU\0" and descsz:
            return data[desc_at : desc_at + descsz].hex()
    return None


def _cache_file(folder: str, key: str) -> str:
    return os.path.join(folder, f"{PREFIX}{key[:48]}{SUFFIX}")


def _read_cache(folder: str, key: str) -> TargetIndex | None:
    from pybpftool.btf.target import decode

    try:
        fd = os.open(_cache_file(folder, key), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
            return None
        # Mapped, not read: decode reads the index's tables where they lie, and a read copy
        # cost a warm run 0.5-0.9 ms of page faults. A cache file is only ever replaced by a
        # rename (_write_cache), never rewritten in place, so the mapping cannot shrink.
        import mmap

        try:
            blob = mmap.mmap(f.fileno(), 0, mmap.MAP_PRIVATE, mmap.PROT_READ)
        except (OSError, ValueError):  # an empty file cannot be mapped
            return decode(f.read(), key)
        return decode(cast(bytes, blob), key)


def _write_cache(folder: str, key: str, blob: bytes) -> None:
    """_write_cache: atomically replace the index file; old ones beyond KEEP are pruned."""
    import tempfile

    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, _cache_file(folder, key))
        tmp = None
        _prune(folder)
    except OSError:
        pass  # best effort (read-only folder, sandbox, full disk)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _prune(folder: str) -> None:
    entries = []
    for name in os.listdir(folder):
        if name.startswith(PREFIX) and name.endswith(SUFFIX):
            path = os.path.join(folder, name)
            entries.append((os.stat(path).st_mtime, path))
    for _, path in sorted(entries, reverse=True)[KEEP:]:
        os.unlink(path)
