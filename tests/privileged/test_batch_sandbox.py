"""A -batch builds its sandbox policy once, however many lines it has.

The policy names every file of the whole batch (a later line's object must stay readable
once the first line has confined the process): built again on every line, it cost a path
check per word per line, quadratic in the batch (10,000 lines took 10.5 minutes). Counted
here, not timed. The lines run in this process as the console script runs them
(`console=True`), with confinement itself replaced by a stand-in that only records the
policy: the test process is never confined.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bpfobjs
import pytest

from pybpftool import sandbox
from pybpftool.sandbox import Policy

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"


@pytest.fixture
def policies(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """policies: the inputs of every sandbox policy built while the test runs; confine()
    marks the process confined (undone after the test) without confining it."""
    built: list[tuple[str, ...]] = []
    real = sandbox.command_policy

    def counting(inputs: list[str], pin_root: str | None, output_dir: str | None = None) -> Policy:
        built.append(tuple(inputs))
        return real(inputs, pin_root, output_dir)

    def pretend_confine(policy: Policy) -> bool:
        monkeypatch.setattr(sandbox.STATE, "enforced", True)
        monkeypatch.setattr(sandbox.STATE, "policy", policy)
        return True

    monkeypatch.setattr(sandbox, "command_policy", counting)
    monkeypatch.setattr(sandbox, "confine", pretend_confine)
    monkeypatch.setenv("PYBPFTOOL_SANDBOX", "on")
    return built


@pytest.mark.parametrize("lines", [1, 40])
def test_a_batch_builds_its_sandbox_policy_once(
    lines: int,
    in_netns: str,
    env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    policies: list[tuple[str, ...]],
) -> None:
    from pybpftool.cli.tc.main import main

    monkeypatch.setenv("TC_BPF_MNT", env["TC_BPF_MNT"])
    subprocess.run(["tc", "-n", in_netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    obj = str(bpfobjs.build("legacy_maps", HOST))
    batch = tmp_path / "batch"
    line = f"filter replace dev v0 ingress pref 1 handle 1 bpf da obj {obj} sec classifier\n"
    batch.write_text(line * lines)
    assert main(["-batch", str(batch)], console=True) == 0
    assert len(policies) == 1
    assert policies[0].count(obj) >= 1


def test_with_the_sandbox_off_no_policy_is_built(
    in_netns: str,
    env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    policies: list[tuple[str, ...]],
) -> None:
    from pybpftool.cli.ip.main import main

    monkeypatch.setenv("TC_BPF_MNT", env["TC_BPF_MNT"])
    monkeypatch.setenv("PYBPFTOOL_SANDBOX", "off")
    obj = str(bpfobjs.build("xdp_pass", HOST))
    batch = tmp_path / "batch"
    batch.write_text(f"link set dev v1 xdp obj {obj}\nlink set dev v1 xdp off\n" * 5)
    assert main(["-batch", str(batch)], console=True) == 0
    assert policies == []
