"""CO-RE programs judged by the real verifier against a custom target BTF (issue 6).

core_reloc's programs read a 256-byte map value through CO-RE types, so whatever offsets the
target gives, the verifier can check the patched program: a poisoned instruction that the
program can reach is rejected and told as the relocation that failed; one it cannot reach
is dropped as dead code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import bpfobjs
import pytest

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
VERIFY = [sys.executable, "-m", "pybpftool", "object", "verify", "--json"]
# Programs whose poisoned instruction is reached, and the relocation each is told as.
REACHED = {
    "reached_missing": "<byte_off> [{rec}] struct core_rec.gone (0:6 @ offset 28)",
    "narrowed_signed": "<byte_off> [{rec}] struct core_rec.shrink (0:3 @ offset 12)",
    "absent_type": "struct core_absent.z (0:0 @ offset 0)",
    "missing_enum_value": "<enumval_value> [{color}] enum core_color::BLUE = 3",
}


@pytest.fixture
def target(tmp_path: Path) -> Path:
    out = tmp_path / "target.btf"
    obj = bpfobjs.build("core_reloc", HOST, "-DTARGET")
    subprocess.run(
        ["llvm-objcopy-14", f"--dump-section=.BTF={out}", str(obj)], check=True, capture_output=True
    )
    return out


def verify(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, dict[str, str]]]:
    obj = str(bpfobjs.build("core_reloc", HOST))
    done = subprocess.run([*VERIFY, *args, obj], capture_output=True, text=True, env=env)
    assert done.stderr == ""
    return done.returncode, {p["name"]: p for p in json.loads(done.stdout)["programs"]}


def local_ids() -> dict[str, int]:
    from pybpftool.btf import Kind
    from pybpftool.parser import parse_object

    btf = parse_object(bpfobjs.build("core_reloc", HOST)).btf
    assert btf is not None
    return {
        "rec": btf.find("core_rec", Kind.STRUCT)[0],
        "color": btf.find("core_color", Kind.ENUM)[0],
    }


def test_verify_with_a_custom_target(target: Path) -> None:
    status, programs = verify("--btf", str(target))
    assert status == 1
    rejected = {name for name, p in programs.items() if p["verdict"] == "rejected"}
    assert rejected == {*REACHED, "ambiguous"}
    ids = local_ids()
    for name, relocation in REACHED.items():
        reason = programs[name]["reason"]
        assert reason.startswith("failed to resolve CO-RE relocation "), reason
        assert relocation.format(**ids) in reason
        assert "<invalid CO-RE relocation>" in programs[name]["log"]
        assert "invalid func unknown#195896080" not in programs[name]["log"]
    assert "core_amb___one" in programs["ambiguous"]["reason"]
    # The field read behind a failed existence check is dead code: the program loads.
    assert programs["guarded_missing"]["verdict"] == "accepted"


def test_the_target_can_come_from_the_environment(target: Path) -> None:
    env = {**os.environ, "PYBPFTOOL_TARGET_BTF": str(target)}
    by_env = verify(env=env)
    by_option = verify("--btf", str(target))
    verdicts = {name: p["verdict"] for name, p in by_env[1].items()}
    assert verdicts == {name: p["verdict"] for name, p in by_option[1].items()}


def test_a_missing_target_is_one_clear_line(tmp_path: Path) -> None:
    obj = str(bpfobjs.build("core_reloc", HOST))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pybpftool",
            "object",
            "verify",
            "--btf",
            str(tmp_path / "nope"),
            obj,
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "cannot read target BTF" in done.stdout + done.stderr


def test_pytc_attaches_a_core_program_relocated_for_the_environment_target(
    target: Path, netns: str, env: dict[str, str]
) -> None:
    obj = str(bpfobjs.build("core_reloc", HOST))
    tool = [sys.executable, "-m", "pybpftool.cli.tc.main", "-n", netns]
    env = {**env, "PYBPFTOOL_TARGET_BTF": str(target)}
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    add = [*tool, "filter", "add", "dev", "v0", "ingress", "bpf", "da", "obj", obj, "sec", "socket"]
    done = subprocess.run(add, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    shown = subprocess.run(
        ["tc", "-n", netns, "filter", "show", "dev", "v0", "ingress"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "core_reloc" in shown.stdout and "direct-action" in shown.stdout
    # The same line against a target without the types still loads field_offset (its
    # relocation is poisoned and reached): the verifier's refusal names the relocation.
    env["PYBPFTOOL_TARGET_BTF"] = "/sys/kernel/btf/vmlinux"
    replace = [*add[:6], "replace", *add[7:]]
    failed = subprocess.run(replace, capture_output=True, text=True, env=env)
    assert failed.returncode != 0
    assert "failed to resolve CO-RE relocation <byte_off>" in failed.stderr
    assert "struct core_rec.b (0:1 @ offset 4)" in failed.stderr


def test_a_batch_reads_and_indexes_the_target_once(
    target: Path,
    in_netns: str,
    env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """issue 8: N attach lines of a CO-RE object in one -batch open the target BTF once; each
    line still loads its own program."""
    from pybpftool.cli.tc.main import main
    from pybpftool.loader import targetbtf

    opened: list[str] = []
    real = targetbtf.open_target

    def counting(path: str, env: object = None) -> object:
        opened.append(path)
        return real(path, env)  # type: ignore[arg-type]

    monkeypatch.setattr(targetbtf, "open_target", counting)
    for key in ("TC_BPF_MNT", "PYBPFTOOL_TARGET_BTF"):
        monkeypatch.setenv(key, env["TC_BPF_MNT"] if key == "TC_BPF_MNT" else str(target))
    subprocess.run(["tc", "-n", in_netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    obj = bpfobjs.build("core_reloc", HOST)
    batch = tmp_path / "batch"
    batch.write_text(
        "".join(
            f"filter add dev v0 ingress pref {n} bpf da obj {obj} sec socket\n" for n in (1, 2, 3)
        )
    )
    assert main(["-batch", str(batch)]) == 0  # in-process, already inside the netns
    assert opened == [str(target)]
    shown = subprocess.run(
        ["tc", "-n", in_netns, "filter", "show", "dev", "v0", "ingress"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert len({line for line in shown.splitlines() if " id " in line}) == 3  # three programs


def test_the_core_example_is_relocated_for_this_kernel(tmp_path: Path) -> None:
    """examples/core_task.c (the demo's CO-RE step): the guarded read of a field this kernel
    renamed loads; the unguarded one is refused, the failed relocation named."""
    root = Path(__file__).resolve().parents[2]
    obj = tmp_path / "core_task.o"
    subprocess.run(
        [
            bpfobjs.CLANG,
            "-O2",
            "-g",
            "-Wall",
            "-Werror",
            "-target",
            "bpf",
            f"-I{root / 'tests/bpf/include'}",
            "-c",
            str(root / "examples/core_task.c"),
            "-o",
            str(obj),
        ],
        check=True,
    )
    done = subprocess.run([*VERIFY, str(obj)], capture_output=True, text=True)
    programs = {p["name"]: p for p in json.loads(done.stdout)["programs"]}
    assert programs["task_fields"]["verdict"] == programs["state_either"]["verdict"] == "accepted"
    old_only = programs["state_old_only"]
    assert old_only["verdict"] == "rejected" and done.returncode == 1
    assert old_only["reason"].startswith("failed to resolve CO-RE relocation <byte_off> [")
    assert "struct task_struct___old.state (0:0 @ offset 0)" in old_only["reason"]
