"""The target BTF index and its disk cache (issue 6, item 4).

The cache is keyed and checked by the BTF's content hash (the running kernel's: by its build
ID), rebuilt when stale or damaged, used only in a folder only root can write, and written
atomically.
"""

from __future__ import annotations

import mmap
import os
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from bpfobjs import build

from pybpftool.btf import Kind
from pybpftool.btf import target as target_mod
from pybpftool.btf.target import NameIndex, TargetBtf, build_index, decode, digest, encode
from pybpftool.errors import ObjectError
from pybpftool.loader import targetbtf
from pybpftool.loader.targetbtf import ENV_CACHE, ENV_TARGET, KERNEL_BTF, open_target

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the cache folder must be root's")


def dump_btf(name: str, tmp_path: Path, *flags: str) -> Path:
    out = tmp_path / f"{name}{'-'.join(flags)}.btf"
    obj = build(name, "bpfel", *flags)
    subprocess.run(
        ["llvm-objcopy-14", f"--dump-section=.BTF={out}", str(obj)], check=True, capture_output=True
    )
    return out


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    return folder


@pytest.fixture
def btf_file(tmp_path: Path) -> Path:
    return dump_btf("core_reloc", tmp_path, "-DTARGET")


def index_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("btf-index-*.bin"))


def count_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = target_mod.build_index

    def counting(btf: object) -> object:
        calls.append(1)
        return real(btf)  # type: ignore[arg-type]

    monkeypatch.setattr(target_mod, "build_index", counting)
    return calls


def test_first_open_builds_and_caches_the_second_reads_the_cache(
    btf_file: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = count_builds(monkeypatch)
    env = {ENV_CACHE: str(cache)}
    first = open_target(str(btf_file), env)
    (cached,) = index_files(cache)
    assert cached.stat().st_mode & 0o077 == 0 and builds == [1]
    second = open_target(str(btf_file), env)
    assert builds == [1]  # no second pass over the types
    assert second.candidates(Kind.STRUCT, "core_rec") == first.candidates(Kind.STRUCT, "core_rec")
    assert second.btf.type(first.candidates(Kind.STRUCT, "core_rec")[0]).name == "core_rec"


def test_flavours_are_indexed_under_their_essential_name(btf_file: Path) -> None:
    target = TargetBtf(btf_file.read_bytes())
    names = [target.btf.type(i).name for i in target.candidates(Kind.STRUCT, "core_amb")]
    assert names == ["core_amb___one", "core_amb___two"]
    assert target.candidates(Kind.UNION, "core_amb") == []
    assert target.candidates(Kind.ENUM64, "core_color") == target.candidates(
        Kind.ENUM, "core_color"
    )


def test_a_damaged_cache_file_is_rebuilt(
    btf_file: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {ENV_CACHE: str(cache)}
    open_target(str(btf_file), env)
    (cached,) = index_files(cache)
    blob = bytearray(cached.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    cached.write_bytes(bytes(blob))
    builds = count_builds(monkeypatch)
    target = open_target(str(btf_file), env)
    assert builds == [1] and target.candidates(Kind.STRUCT, "core_rec")
    assert decode(cached.read_bytes(), digest(btf_file.read_bytes())) is not None  # rewritten


@pytest.mark.parametrize("keep", [0, 3, 40, -1])
def test_an_empty_or_cut_cache_file_is_rebuilt(
    btf_file: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, keep: int
) -> None:
    """A cut file (an empty one cannot even be mapped) decodes to nothing: rebuilt."""
    env = {ENV_CACHE: str(cache)}
    open_target(str(btf_file), env)
    (cached,) = index_files(cache)
    cached.write_bytes(cached.read_bytes()[:keep])
    builds = count_builds(monkeypatch)
    assert open_target(str(btf_file), env).candidates(Kind.STRUCT, "core_rec")
    assert builds == [1]
    assert decode(cached.read_bytes(), digest(btf_file.read_bytes())) is not None  # rewritten


def test_an_index_of_other_content_is_never_used(
    btf_file: Path, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stale: the file under this BTF's name holds the index of another BTF."""
    env = {ENV_CACHE: str(cache)}
    open_target(str(btf_file), env)
    (cached,) = index_files(cache)
    other = TargetBtf(dump_btf("core_reloc", tmp_path).read_bytes())
    cached.write_bytes(encode(other.index, digest(b"something else")))
    builds = count_builds(monkeypatch)
    target = open_target(str(btf_file), env)
    assert builds == [1]
    assert target.index.names.as_dict() == build_index(target.btf).names.as_dict()


@pytest.mark.parametrize("blob", [b"", b"\0" * 40, b"x" * 32 + b"not marshal"])
def test_garbage_decodes_to_nothing(blob: bytes) -> None:
    assert decode(blob, "key") is None


def test_a_checksummed_blob_whose_parts_disagree_decodes_to_nothing(btf_file: Path) -> None:
    index = TargetBtf(btf_file.read_bytes()).index
    names = index.names
    assert decode(encode(index, "k"), "k") is not None
    for bad in (
        NameIndex(names.text, names.starts[:-1], names.ids),  # a name without its ids
        NameIndex(names.text, names.starts, names.ids[:-1]),  # ids the runs do not cover
        NameIndex(names.text[1:], names.starts, names.ids),  # no leading NUL
    ):
        assert decode(encode(index._replace(names=bad), "k"), "k") is None
    kinds = bytearray(index.kinds)
    kinds[1] = 99
    assert decode(encode(index._replace(kinds=bytes(kinds)), "k"), "k") is None
    # a header whose table sizes do not add up to the blob (or split a word), checksummed
    for field, delta in ((2, 1), (3, 4), (3, 1), (4, -4), (6, 1)):
        payload = bytearray(encode(index, "k")[4:])
        size = struct.unpack_from("=I", payload, 4 * field)[0]
        struct.pack_into("=I", payload, 4 * field, size + delta)
        forged = zlib.crc32(payload).to_bytes(4, "little") + bytes(payload)
        assert decode(forged, "k") is None


@pytest.mark.parametrize(
    "names",
    [
        {},
        {"task_struct": [3, 9], "": [4], "12": [5], "a b": [1, 2, 6], "x": [7]},
        {str(n): [n] for n in range(1, 300)},  # names that look like ids
    ],
)
def test_the_name_index_finds_every_name_and_no_other(names: dict[str, list[int]]) -> None:
    index = NameIndex.of(names)
    assert index.as_dict() == names
    for name, ids in names.items():
        assert index.get(name) == ids
    for missing in ("task", "struct", "task_struct ", "1 2", "300", "a"):
        assert index.get(missing) == []


def test_a_checksummed_index_that_lies_is_caught_when_used(btf_file: Path) -> None:
    raw = btf_file.read_bytes()
    honest = TargetBtf(raw).index
    offsets = honest.offsets[:]
    offsets[1], offsets[2] = offsets[2], offsets[1]
    lying = decode(encode(honest._replace(offsets=offsets), digest(raw)), digest(raw))
    assert lying is not None  # the checksum only proves it was written whole
    target = TargetBtf(raw, lying)
    with pytest.raises(ObjectError, match=r"does not match the type index|is not called"):
        for type_id in range(1, len(offsets)):
            target.btf.type(type_id)
        for name, ids in honest.names.as_dict().items():
            target.candidates(Kind(honest.kinds[ids[0]]), name)


@pytest.mark.parametrize("mode", [0o777, 0o755])
def test_a_folder_others_can_write_is_not_trusted(
    btf_file: Path, tmp_path: Path, mode: int
) -> None:
    folder = tmp_path / "shared-cache"
    folder.mkdir()
    folder.chmod(mode)
    trusted = targetbtf.cache_dir({ENV_CACHE: str(folder)})
    if mode & 0o022:
        assert trusted is None
        open_target(str(btf_file), {ENV_CACHE: str(folder)})
        assert index_files(folder) == []
    else:
        assert trusted == str(folder)


def test_a_folder_not_owned_by_root_is_not_trusted(btf_file: Path, tmp_path: Path) -> None:
    folder = tmp_path / "someone-elses"
    folder.mkdir(mode=0o700)
    os.chown(folder, 65534, 65534)
    assert targetbtf.cache_dir({ENV_CACHE: str(folder)}) is None
    open_target(str(btf_file), {ENV_CACHE: str(folder)})
    assert index_files(folder) == []


def test_a_symlinked_cache_file_is_not_followed(
    btf_file: Path, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {ENV_CACHE: str(cache)}
    open_target(str(btf_file), env)
    (cached,) = index_files(cache)
    elsewhere = tmp_path / "elsewhere.bin"
    elsewhere.write_bytes(cached.read_bytes())
    cached.unlink()
    cached.symlink_to(elsewhere)
    builds = count_builds(monkeypatch)
    open_target(str(btf_file), env)
    assert builds == [1]


def test_old_index_files_are_pruned(cache: Path, tmp_path: Path) -> None:
    env = {ENV_CACHE: str(cache)}
    raw = dump_btf("core_reloc", tmp_path, "-DTARGET").read_bytes()
    for n in range(targetbtf.KEEP + 2):
        variant = tmp_path / f"variant{n}.btf"
        variant.write_bytes(raw + bytes(n))  # same types, different content hash
        open_target(str(variant), env)
    assert len(index_files(cache)) == targetbtf.KEEP


def test_target_path_order() -> None:
    assert targetbtf.target_path(None, {}) == KERNEL_BTF
    assert targetbtf.target_path(None, {ENV_TARGET: "/t.btf"}) == "/t.btf"
    assert targetbtf.target_path("/cli.btf", {ENV_TARGET: "/t.btf"}) == "/cli.btf"


def test_an_unreadable_or_bad_target_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ObjectError, match=r"cannot read target BTF .*No such file"):
        open_target(str(tmp_path / "missing.btf"), {ENV_CACHE: str(tmp_path)})
    bad = tmp_path / "bad.btf"
    bad.write_bytes(b"\x9f\xeb\x01\0" + b"\0" * 4)
    with pytest.raises(ObjectError, match=r"target BTF .*bad\.btf"):
        open_target(str(bad), {ENV_CACHE: str(tmp_path)})


def test_the_kernel_btf_indexes_and_round_trips(cache: Path) -> None:
    if not os.path.exists(KERNEL_BTF):
        pytest.skip("no kernel BTF")
    env = {ENV_CACHE: str(cache)}
    cold = open_target(KERNEL_BTF, env)
    warm = open_target(KERNEL_BTF, env)
    for name in ("task_struct", "sk_buff", "pid_type"):
        kind = Kind.ENUM if name == "pid_type" else Kind.STRUCT
        assert cold.candidates(kind, name) == warm.candidates(kind, name) != []


def note(name: bytes, kind: int, desc: bytes) -> bytes:
    """note: one ELF note as /sys/kernel/notes holds them (name and desc 4-byte aligned)."""
    pad = lambda b: b + bytes(-len(b) % 4)  # noqa: E731
    return struct.pack("=III", len(name), len(desc), kind) + pad(name) + pad(desc)


def test_the_kernel_build_id_is_read_from_its_notes(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    build_id = bytes(range(20))
    notes.write_bytes(
        note(b"Xen\0", 3, b"xyz") + note(b"Linux\0", 3, b"") + note(b"GNU\0", 3, build_id)
    )
    assert targetbtf.kernel_build_id(str(notes)) == build_id.hex()
    for broken in (
        note(b"GNU\0", 3, build_id)[:-4],  # cut short
        note(b"GNU\0", 1, build_id),  # another note type
        note(b"GNU\0", 3, b""),  # empty
        b"",
    ):
        notes.write_bytes(broken)
        assert targetbtf.kernel_build_id(str(notes)) is None
    assert targetbtf.kernel_build_id(str(tmp_path / "missing")) is None


def test_the_kernel_btf_is_keyed_by_its_build_id(cache: Path) -> None:
    """The running kernel's BTF cannot change before another kernel boots, which has another
    build ID: its key is the build ID (and size), read without hashing the 5 MB blob."""
    build_id = targetbtf.kernel_build_id()
    if not os.path.exists(KERNEL_BTF) or build_id is None:
        pytest.skip("no kernel BTF or no build ID")
    env = {ENV_CACHE: str(cache)}
    open_target(KERNEL_BTF, env)
    (cached,) = index_files(cache)
    assert cached.name == f"btf-index-vmlinux-{build_id}.bin"
    size = len(Path(KERNEL_BTF).read_bytes())
    assert decode(cached.read_bytes(), f"vmlinux-{build_id}-{size}") is not None
    assert decode(cached.read_bytes(), f"vmlinux-{build_id}-{size + 1}") is None


def test_the_mapped_kernel_btf_reads_as_the_read_one(cache: Path) -> None:
    """Linux 6.16 on maps /sys/kernel/btf/vmlinux (read-only, private): the target built on
    the mapping finds and decodes what one built on a read copy does."""
    if not os.path.exists(KERNEL_BTF):
        pytest.skip("no kernel BTF")
    mapped = targetbtf.read_target(KERNEL_BTF)
    copy = Path(KERNEL_BTF).read_bytes()
    with open(KERNEL_BTF, "rb") as f:
        try:
            mmap.mmap(f.fileno(), 0, mmap.MAP_PRIVATE, mmap.PROT_READ).close()
        except OSError:
            assert isinstance(mapped, bytes)  # an older kernel: read
        else:
            assert isinstance(mapped, mmap.mmap)
    assert len(mapped) == len(copy) and mapped[:4096] == copy[:4096]
    warm = open_target(KERNEL_BTF, {ENV_CACHE: str(cache)})  # builds on the mapping
    read = TargetBtf(copy)
    for kind, name in (
        (Kind.STRUCT, "task_struct"),
        (Kind.STRUCT, "sk_buff"),
        (Kind.ENUM, "bpf_cmd"),
    ):
        found = warm.candidates(kind, name)
        assert found == read.candidates(kind, name) != []
        assert warm.btf.type(found[0]) == read.btf.type(found[0])
