"""The catalogue of bad inputs: each case's exact message and exit status, as the man pages'
DIAGNOSTICS sections list them (a test below keeps the pages and this table in step).

Each case runs in a fresh namespace with veths v0/v1 and its own bpffs; `setup` lines run
first with the real ip/tc. `lines` are the last lines of standard error, exactly.
"""

from __future__ import annotations

import shlex
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import bpfobjs
import pytest
from scripts import BIN

from pybpftool.uapi import BpfProgType, prog_type_name

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
MAN = Path(__file__).resolve().parent.parent.parent / "man"


@dataclass(frozen=True)
class Case:
    id: str
    argv: str
    lines: tuple[str, ...]
    status: int
    setup: tuple[str, ...] = ()


CASES = [
    # pybpftool: the object
    Case(
        "missing-file",
        "pybpftool object show {tmp}/nope.o",
        ("pybpftool: {tmp}/nope.o: No such file or directory",),
        1,
    ),
    Case("directory", "pybpftool object show {tmp}", ("pybpftool: {tmp}: is a directory",), 1),
    Case("empty-file", "pybpftool object show {empty}", ("pybpftool: not an ELF file",), 1),
    Case("not-elf", "pybpftool object show {text}", ("pybpftool: not an ELF file",), 1),
    Case(
        "elf32",
        "pybpftool object show {elf32}",
        ("pybpftool: 32-bit ELF file, eBPF objects are ELF64",),
        1,
    ),
    Case(
        "not-ebpf",
        "pybpftool object show {x86}",
        ("pybpftool: ELF format error, ELF file not for eBPF? (e_machine 62, expected EM_BPF)",),
        1,
    ),
    Case(
        "truncated",
        "pybpftool object show {truncated}",
        ("pybpftool: truncated ELF section header table",),
        1,
    ),
    Case(
        "legacy-future",
        "pybpftool object show {legacy_future}",
        (
            "pybpftool: struct bpf_elf_map not supported, coming from future version?",
            "Error fixing up map structure, incompatible struct bpf_elf_map used?",
        ),
        1,
    ),
    Case(
        "unknown-map-type",
        "pybpftool object show {unknown_map_type}",
        ("pybpftool: map 'odd': unknown map type 99",),
        1,
    ),
    Case(
        "btf-key-conflict",
        "pybpftool object show {btf_key_conflict}",
        ("pybpftool: map 'clash': conflicting key size 8 != 4",),
        1,
    ),
    Case("bad-btf", "pybpftool object show {bad_btf}", ("pybpftool: .BTF: bad magic 0x0000",), 1),
    Case(
        "no-programs",
        "pybpftool object show {no_programs}",
        ("pybpftool: object has no programs (no executable section besides .text)",),
        1,
    ),
    Case(
        "usage",
        "pybpftool object show",
        ("pybpftool: Missing argument 'FILE'.", "Try 'pybpftool --help'."),
        2,
    ),
    Case(
        "unknown-type",
        "pybpftool object verify --type foo {legacy}",
        ("pybpftool: unknown program type 'foo'", "Known types: {known}"),
        2,
    ),
    Case(
        "eperm",
        "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "
        "{bin}/pybpftool object verify --type sched_cls {public}/legacy.o",
        ("pybpftool: Map object 'counters' rejected: Operation not permitted",),
        1,
    ),
    # pyip
    Case(
        "core-target-missing",
        "pybpftool object verify --btf {tmp}/nope.btf {core}",
        ("pybpftool: cannot read target BTF {tmp}/nope.btf: No such file or directory",),
        1,
    ),
    Case(
        "core-target-not-btf",
        "pybpftool object verify --btf {text} {core}",
        ("pybpftool: target BTF {text}: not a BTF blob (bad magic)",),
        1,
    ),
    Case(
        "verify-map-size",
        "pybpftool object verify {big}",
        (
            "pybpftool: map 'big' would reserve 1 GiB (268435456 entries of 4 bytes); object "
            "verify creates maps of up to 64 MiB each",
            "Raise the limit with --max-map-size SIZE (and --max-maps-size SIZE for all maps).",
        ),
        1,
    ),
    Case("ip-option", "pyip -zzz link show", ('Option "-zzz" is unknown, try "ip -help".',), 255),
    Case("ip-object", "pyip zz", ('Object "zz" is unknown, try "ip help".',), 1),
    Case(
        "ip-netns",
        "pyip -n pybpftool-nope link show",
        ('Cannot open network namespace "pybpftool-nope": No such file or directory',),
        255,
    ),
    Case("ip-mode", "pyip -n {ns} link set dev v0 xdp bogus x", ('What mode is "bogus"?',), 255),
    Case(
        "ip-off-not-last", "pyip -n {ns} link set dev v0 xdp off up", ('What mode is "off"?',), 255
    ),
    Case(
        "ip-incomplete",
        "pyip -n {ns} link set dev v0 xdp obj",
        ('Command line is not complete. Try option "help"',),
        255,
    ),
    Case(
        "ip-duplicate-dev",
        "pyip -n {ns} link set dev v0 dev v1 xdp off",
        ('Error: either "dev" is duplicate, or "v1" is a garbage.',),
        255,
    ),
    Case(
        "ip-no-device",
        "pyip -n {ns} link set dev nope xdp obj {xdp} sec xdp",
        ('Cannot find device "nope"',),
        1,
    ),
    Case(
        "ip-no-elf",
        "pyip -n {ns} link set dev v0 xdp obj {tmp}/nope.o",
        ("Cannot initialize ELF context!",),
        255,
    ),
    Case(
        "ip-no-section",
        "pyip -n {ns} link set dev v0 xdp obj {xdp} sec nosuch",
        ("object file doesn't contain sec nosuch",),
        255,
    ),
    Case(
        "ip-no-pinned-prog",
        "pyip -n {ns} link set dev v0 xdp pinned {tmp}/nope",
        ("Couldn't retrieve pinned program '{tmp}/nope': No such file or directory",),
        255,
    ),
    Case(
        "ip-attached",
        "pyip -n {ns} link set dev v0 xdp obj {xdp} sec xdp",
        ("Error: XDP program already attached.",),
        2,
        ("ip -n {ns} link set dev v0 xdp obj {xdp} sec xdp",),
    ),
    Case(
        "ip-native-generic",
        "pyip -n {ns} link set dev v0 xdpgeneric obj {xdp} sec xdp",
        ("Error: Native and generic XDP can't be active at the same time.",),
        2,
        ("ip -n {ns} link set dev v0 xdpdrv obj {xdp} sec xdp",),
    ),
    Case(
        "ip-verifier",
        "pyip -n {ns} link set dev v0 xdp obj {rejected} sec classifier",
        ("Error fetching program/map!",),
        255,
    ),
    Case("ip-link-show", "pyip -n {ns} link show dev nope", ('Device "nope" does not exist.',), 1),
    # pytc
    Case(
        "tc-option",
        "pytc --json filter show",
        ('Option "--json" is unknown, try "tc -help".',),
        255,
    ),
    Case(
        "tc-no-qdisc",
        "pytc -n {ns} filter add dev v0 ingress bpf da obj {twin}",
        ("Error: Parent Qdisc doesn't exists.", "We have an error talking to the kernel"),
        2,
    ),
    Case(
        "tc-qdisc-exists",
        "pytc -n {ns} qdisc add dev v0 clsact",
        ("Error: Exclusivity flag on, cannot modify.",),
        2,
        ("tc -n {ns} qdisc add dev v0 clsact",),
    ),
    Case(
        "tc-no-device",
        "pytc -n {ns} filter add dev nope ingress bpf da obj {twin}",
        ('Cannot find device "nope"',),
        1,
    ),
    Case(
        "tc-load",
        "pytc -n {ns} filter add dev v0 ingress bpf da obj {twin} sec nosuch",
        ("object file doesn't contain sec nosuch", "Unable to load program"),
        1,
        ("tc -n {ns} qdisc add dev v0 clsact",),
    ),
    Case(
        "tc-bytecode",
        "pytc -n {ns} filter add dev v0 ingress bpf bytecode 2,6",
        ("Error at instruction 0!", "Unable to parse bpf command line"),
        1,
    ),
    Case(
        "tc-pin-mismatch",
        "pytc -n {ns} filter add dev v0 ingress bpf da obj {legacy}",
        (
            "Map specification differs from pinned file!",
            " - Size value:   8 (obj) != 16 (pin)",
            "",
            "Map 'counters' self-check failed!",
            "Unable to load program",
        ),
        1,
        (
            "tc -n {ns} qdisc add dev v0 clsact",
            "mkdir -p {bpffs}/tc/globals",
            "bpftool map create {bpffs}/tc/globals/counters type hash key 4 value 16 "
            "entries 256 name counters flags 1",
        ),
    ),
    Case(
        "tc-bpffs",
        "env TC_BPF_MNT=/proc/pybpftool-nope {bin}/pytc -n {ns} filter add dev v0 "
        "ingress bpf da obj {legacy}",
        ("mkdir /proc/pybpftool-nope failed: No such file or directory", "Unable to load program"),
        1,
    ),
    Case(
        "tc-pin-escape",
        "pytc -n {ns} filter add dev v0 ingress bpf da obj {legacy}",
        (
            "pin folder {bpffs}/tc leads out of the BPF filesystem mounted at {bpffs} (to {tmp}):"
            " refusing to pin there",
            "Unable to load program",
        ),
        1,
        setup=("tc -n {ns} qdisc add dev v0 clsact", "ln -s {tmp} {bpffs}/tc"),
    ),
    Case(
        "tc-graft-key",
        "pytc -n {ns} exec bpf graft {tmp}/map obj {twin}",
        ("Couldn't infer map key from section name! Please provide 'key' argument!",),
        234,
    ),
    Case(
        "tc-export",
        "pytc -n {ns} filter add dev v0 ingress bpf da obj {legacy} export {tmp}/nobody",
        ("Cannot connect to {tmp}/nobody: No such file or directory",),
        1,
        ("tc -n {ns} qdisc add dev v0 clsact",),
    ),
]


def objects(tmp: Path, bpffs: str, netns: str) -> dict[str, str]:
    x86 = tmp / "x86.o"
    subprocess.run(
        ["cc", "-c", "-x", "c", "-", "-o", str(x86)], input="int x;", text=True, check=True
    )
    legacy = bpfobjs.build("legacy_maps", HOST).read_bytes()
    elf32 = bytearray(legacy)
    elf32[4] = 1
    (tmp / "elf32.o").write_bytes(elf32)
    (tmp / "truncated.o").write_bytes(legacy[: struct.unpack_from("<Q", legacy, 40)[0] + 10])
    (tmp / "empty.o").write_bytes(b"")
    from pybpftool.elf import parse_elf

    btf_at = parse_elf(legacy).section_by_name(".BTF")
    assert btf_at is not None
    bad_btf = bytearray(legacy)
    bad_btf[btf_at.offset : btf_at.offset + 2] = b"\0\0"
    (tmp / "bad_btf.o").write_bytes(bad_btf)
    (tmp / "text.txt").write_text("hello\n")
    # The unprivileged case must be able to read its object: a world-readable copy.
    public = tmp / "public"
    public.mkdir()
    (public / "legacy.o").write_bytes(legacy)
    for folder in (public, *public.parents):
        if str(folder).startswith(("/tmp/pytest-of", str(tmp))):
            folder.chmod(0o755)
    (public / "legacy.o").chmod(0o644)
    found = {
        "tmp": str(tmp),
        "ns": netns,
        "bpffs": bpffs,
        "bin": str(BIN),
        "public": str(public),
        "known": ", ".join(prog_type_name(m) for m in BpfProgType if m),
        "x86": str(x86),
        "elf32": str(tmp / "elf32.o"),
        "truncated": str(tmp / "truncated.o"),
        "empty": str(tmp / "empty.o"),
        "bad_btf": str(tmp / "bad_btf.o"),
        "text": str(tmp / "text.txt"),
        "legacy": str(bpfobjs.build("legacy_maps", HOST)),
        "xdp": str(bpfobjs.build("xdp_pass", HOST)),
        "twin": str(bpfobjs.build("twin_btf", HOST)),
        "rejected": str(bpfobjs.build("rejected", HOST)),
        "core": str(bpfobjs.build("core_reloc", HOST)),
        "big": str(bpfobjs.build("big_maps", HOST)),
    }
    for bad in ("legacy_future", "unknown_map_type", "btf_key_conflict", "no_programs"):
        found[bad] = str(bpfobjs.build(f"bad/{bad}", HOST))
    return found


def command(line: str, values: dict[str, str]) -> list[str]:
    words = shlex.split(line.format(**values))
    if words[0] in ("pyip", "pytc", "pybpftool"):
        words[0] = str(BIN / words[0])
    return words


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_catalogued_message_and_status(
    case: Case, netns: str, env: dict[str, str], bpffs: str, tmp_path: Path
) -> None:
    values = objects(tmp_path, bpffs, netns)
    for line in case.setup:
        subprocess.run(command(line, values), check=True, capture_output=True, env=env)
    done = subprocess.run(command(case.argv, values), capture_output=True, text=True, env=env)
    expected = [line.format(**values) for line in case.lines]
    assert done.stderr.split("\n")[-len(expected) - 1 : -1] == expected, done.stderr
    assert done.returncode == case.status, done.stderr


def test_catalogue_has_thirty_cases_and_is_in_the_man_pages() -> None:
    assert len(CASES) >= 30
    pages = {tool: (MAN / f"{tool}.8").read_text() for tool in ("pyip", "pytc", "pybpftool")}
    for case in CASES:
        tool = next(w for w in case.argv.split() if w in pages or w.endswith(tuple(pages)))
        page = pages[tool.rsplit("/", 1)[-1]]
        for line in case.lines:
            if "{" in line or not line.strip():
                line = line.split("{")[0].strip()  # the fixed part before a path
            assert line in page, f"{case.id}: {line!r} missing from {tool}.8"
