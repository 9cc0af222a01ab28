"""`pybpftool object show`: JSON for scripts, a table for people, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import bpfobjs
import pytest

from pybpftool.cli.bpftool.main import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pybpftool", *args], capture_output=True, text=True, check=False
    )


def test_json_describes_maps_and_programs(target: str) -> None:
    obj = bpfobjs.build("legacy_maps", target)
    result = run("object", "show", "--json", str(obj))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["license"] == "GPL"
    assert doc["byteorder"] == ("little" if target == "bpfel" else "big")
    maps = {m["name"]: m for m in doc["maps"]}
    assert maps["counters"]["type"] == "hash" and maps["counters"]["pinning"] == "global"
    assert maps["per_object"]["pinning"] == "object"
    assert maps["custom_pin"]["pinning"] == 5
    assert maps["jmp_tc"]["type"] == "prog_array"
    assert maps["map_outer"]["type"] == "array_of_maps"
    assert maps["map_outer"]["legacy"] == {
        "id": 0,
        "inner_id": 7,
        "inner_idx": 0,
        "struct_size": 36,
    }
    assert maps["map_outer"]["inner"]["name"] == "map_inner"
    assert maps["map_outer"]["slots"] == [{"key": 0, "value": "map_inner"}]
    progs = {p["name"]: p for p in doc["programs"]}
    assert progs["cls_entry"]["type"] is None
    assert progs["cls_entry"]["maps"] == ["counters", "map_outer", "jmp_tc"]
    assert progs["tail_one"]["tail_call"] == {"map": "jmp_tc", "key": 1}


def test_json_types_use_bpftool_spelling(target: str) -> None:
    result = run("object", "show", "--json", str(bpfobjs.build("btf_maps", target)))
    doc = json.loads(result.stdout)
    assert {m["name"]: m["type"] for m in doc["maps"]}["outer"] == "array_of_maps"
    assert {m["name"]: m["pinning"] for m in doc["maps"]}["flows"] == "by_name"
    assert {m["name"]: m.get("map_extra") for m in doc["maps"]}["bloom"] == 3
    assert {p["type"] for p in doc["programs"]} == {"sched_cls"}
    assert {m["name"]: m.get("slots") for m in doc["maps"]}["jumps"] == [
        {"key": 1, "value": "tail_a"},
        {"key": 3, "value": "tail_b"},
    ]


def test_table_lists_every_map_and_program(target: str) -> None:
    result = run("object", "show", str(bpfobjs.build("global_data", target)))
    assert result.returncode == 0, result.stderr
    assert "\x1b[" not in result.stdout  # piped: no colour codes
    for word in ("xdp_main", "optional_tc", ".rodata.str1.1", "values", "sched_cls", "xdp"):
        assert word in result.stdout


@pytest.mark.parametrize(
    ("args", "status", "needle"),
    [
        pytest.param(
            ["object", "show", "/nonexistent.o"],
            1,
            "pybpftool: /nonexistent.o: No such file or directory",
            id="missing",
        ),
        pytest.param(["object", "show", "/"], 1, "pybpftool: /: is a directory", id="directory"),
        pytest.param(["object", "show"], 2, "Missing argument", id="no-file"),
        pytest.param(["object", "frobnicate"], 2, "No such command", id="bad-command"),
    ],
)
def test_errors_are_one_line_without_traceback(args: list[str], status: int, needle: str) -> None:
    result = run(*args)
    assert result.returncode == status
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_not_elf_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "bogus.o"
    bogus.write_bytes(b"\x7fELF\x02\x01-not-really")
    assert main(["object", "show", str(bogus)]) == 1
    assert capsys.readouterr().err == "pybpftool: truncated ELF header\n"


def test_untrusted_names_are_escaped(tmp_path: Path) -> None:
    src = tmp_path / "evil.c"
    src.write_text(
        '#include "bpf_defs.h"\n'
        'SEC("xdp\\033[31mred") int prog(struct xdp_md *ctx) { return XDP_PASS; }\n'
        'char LICENSE[] SEC("license") = "GPL";\n'
    )
    obj = tmp_path / "evil.o"
    subprocess.run(
        [
            bpfobjs.CLANG,
            "-O2",
            "-target",
            "bpfel",
            f"-I{bpfobjs.BPF_DIR / 'include'}",
            "-c",
            str(src),
            "-o",
            str(obj),
        ],
        check=True,
    )
    table = run("object", "show", str(obj))
    assert "\x1b" not in table.stdout and "xdp\\x1b[31mred" in table.stdout
    doc = json.loads(run("object", "show", "--json", str(obj)).stdout)
    assert doc["programs"][0]["section"] == "xdp\x1b[31mred"  # JSON escapes it itself


def test_python_m_and_version() -> None:
    result = run("--version")
    assert result.returncode == 0 and "pybpftool" in result.stdout
