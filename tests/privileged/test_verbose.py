"""`verbose` on the real kernel: a successful load prints iproute2's own loader report
(lib/bpf_legacy.c), for a legacy object as for a BTF one: the BTF with the kernel's
analysis, each map made (`Map object ...`) or reused (`... loaded as pinned!`), each program
with its type, instruction count, license and the verifier's `processed N insns` line."""

from __future__ import annotations

import re
import sys

import bpfobjs
import pytest
from scripts import BIN, run

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
PROG = re.compile(
    r"\nProg section '(?P<section>[^']+)' loaded \(\d+\)!\n - Type:         (?P<type>\d+)\n"
    r" - Instructions: (?P<insns>\d+) \(0 over limit\)\n - License:      GPL\n\n"
    r"Verifier analysis:\n\n(?P<log>(?:.*\n)*?processed \d+ insns \(limit \d+\).*\n)\n"
)


@pytest.mark.parametrize("name", ["legacy_maps", "twin_btf"])
def test_tc_verbose_reports_maps_programs_and_the_verifier(
    netns: str, env: dict[str, str], name: str
) -> None:
    obj = str(bpfobjs.build(name, HOST))
    tc = [str(BIN / "pytc"), "-n", netns]
    assert run(*tc, "qdisc", "add", "dev", "v0", "clsact", env=env).returncode == 0
    first = run(*tc, "filter", "add", "dev", "v0", "ingress", "bpf", "da", "obj", obj,
                "verbose", env=env)  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert first.stderr.startswith("\nBTF debug data section '.BTF' loaded (")
    assert "\nVerifier analysis:\n\nmagic: 0xeb9f\n" in first.stderr
    made = re.findall(r"^Map object '(\w+)' loaded \(\d+\)!\n(?: - .*\n){7}\n", first.stderr, re.M)
    assert made, first.stderr
    progs = list(PROG.finditer(first.stderr))
    assert progs and progs[0]["section"] == "classifier" and progs[0]["type"] == "3"
    second = run(*tc, "filter", "add", "dev", "v0", "egress", "bpf", "da", "obj", obj,
                 "verbose", env=env)  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert re.search(r"^Map '\w+' loaded as pinned!$", second.stderr, re.M), second.stderr


def test_ip_verbose_reports_the_xdp_program(netns: str, env: dict[str, str]) -> None:
    obj = str(bpfobjs.build("xdp_pass", HOST))
    done = run(str(BIN / "pyip"), "-n", netns, "link", "set", "dev", "v0", "xdpgeneric", "obj",
               obj, "sec", "xdp", "verbose", env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    prog = PROG.search(done.stderr)
    assert prog is not None and prog["section"] == "xdp" and prog["type"] == "6", done.stderr
    assert "Map object 'xdp_hits' loaded (" in done.stderr
