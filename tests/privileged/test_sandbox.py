"""The Landlock sandbox, each case in a child process: the normal path works confined, what
the policy must deny is denied, and the kernel's audit records name the blocker.

Tests that need audit records enable audit and restore the previous state afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import bpfobjs
import pytest
from scripts import BIN, filter_argv, run

from pybpftool.sandbox.audit import audit_enabled, set_audit_enabled

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"


@pytest.fixture
def audit() -> Iterator[None]:
    """audit: audit enabled for the test, then set back to what it was."""
    before = audit_enabled()
    if before is None:
        pytest.fail("cannot read the audit state (NETLINK_AUDIT)")
    set_audit_enabled(1)
    try:
        yield
    finally:
        set_audit_enabled(before)


def test_status_reports_the_abi_and_the_handled_rights(env: dict[str, str]) -> None:
    done = run(str(BIN / "pybpftool"), "sandbox", "status", "--json", env=env)
    doc = json.loads(done.stdout)
    assert doc["abi"] >= 1 and doc["mode"] == "auto"
    assert {"truncate", "ioctl_dev", "make_reg"} <= set(doc["handled"]["fs"])
    assert doc["handled"]["net"] == ["bind_tcp", "connect_tcp"]
    assert "write_file" not in doc["allowed"]["pin_root"]


def test_check_denies_what_it_must_and_names_the_blockers(env: dict[str, str], audit: None) -> None:
    done = run(str(BIN / "pybpftool"), "sandbox", "check", "--json", env=env)
    assert done.returncode == 0, done.stderr
    results = {r["operation"]: r for r in json.loads(done.stdout)["results"]}
    blockers = {op: r["blocker"] for op, r in results.items()}
    assert blockers == {
        "create a file outside the pin root": "fs.make_reg",
        "truncate a pin under the pin root": "fs.truncate",
        "ioctl on /dev/null": "fs.ioctl_dev",
        "TCP connect to 127.0.0.1": "net.connect_tcp",
        "pin a map under the pin root": None,
    }
    assert results["pin a map under the pin root"]["outcome"] == "allowed"


def test_load_pin_and_attach_work_confined(netns: str, env: dict[str, str], bpffs: str) -> None:
    env = {**env, "PYBPFTOOL_SANDBOX": "on"}
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    obj = str(bpfobjs.build("legacy_maps", HOST))
    done = run(*filter_argv(netns, "add", obj), env=env)
    assert done.returncode == 0, done.stderr
    assert (Path(bpffs) / "tc/globals/counters").exists()


def escaping_object(tmp_path: Path) -> Path:
    """escaping_object: legacy_maps.o with the map `counters` renamed `../../x` (same length
    in the string table), so that its pin path climbs out of the pin root."""
    obj = bpfobjs.build("legacy_maps", HOST)
    return bpfobjs.renamed_symbol(obj, "counters", "../../xx", tmp_path / "escape.o")


def test_a_map_name_leaving_the_pin_root_is_refused_by_name(
    netns: str, env: dict[str, str], tmp_path: Path
) -> None:
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    done = run(*filter_argv(netns, "add", str(escaping_object(tmp_path))), env=env)
    assert done.returncode == 1
    assert "cannot pin map '../../xx': its name contains '/'" in done.stderr


BYPASS = """
import os, sys
import pybpftool.loader.core as core
real = core.map_pin_path
def escaping(spec, wd, sha1, db):  # the test replaces the name checks and path policy
    path = real(spec, wd, sha1, db)
    if spec.name == "counters":
        return os.environ["ESCAPE_TO"]
    return path
core.map_pin_path = escaping
from pybpftool.cli.tc.main import main
sys.exit(main(sys.argv[1:]))
"""


def bypassed_add(
    netns: str, env: dict[str, str], outside: Path
) -> subprocess.CompletedProcess[str]:
    """bypassed_add: `pytc filter add` of legacy_maps.o, sandboxed, with the pin path of
    `counters` forced to `outside` (the name checks and path policy replaced by the test)."""
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    obj = str(bpfobjs.build("legacy_maps", HOST))
    argv = ["-n", netns, "filter", "add", "dev", "v0", "ingress", "bpf", "da", "obj", obj]
    escape_env = {**env, "PYBPFTOOL_SANDBOX": "on", "ESCAPE_TO": str(outside)}
    return run(sys.executable, "-c", BYPASS, *argv, env=escape_env)


@pytest.fixture
def other_bpffs(tmp_path: Path) -> Iterator[Path]:
    """other_bpffs: a second bpffs outside the pin root: only the sandbox keeps pins out."""
    folder = tmp_path / "other"
    folder.mkdir()
    subprocess.run(["mount", "-t", "bpf", "bpf", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_with_name_checks_bypassed_the_sandbox_stops_the_escape(
    netns: str, env: dict[str, str], other_bpffs: Path, audit: None
) -> None:
    outside = other_bpffs / "escaped"
    done = bypassed_add(netns, env, outside)
    assert done.returncode == 1, done.stderr
    # A pin is published under its folder's lock: opening the folder is the first access.
    assert f"cannot open pin folder {other_bpffs}: Permission denied" in done.stderr
    assert f"sandbox: Landlock denied fs.read_dir on {other_bpffs}" in done.stderr
    assert "(our domain" in done.stderr
    assert not outside.exists()


def test_without_audit_the_error_still_points_at_the_sandbox(
    netns: str, env: dict[str, str], other_bpffs: Path
) -> None:
    if audit_enabled():
        pytest.fail("audit is on outside the audit fixture: the state was not restored")
    done = bypassed_add(netns, env, other_bpffs / "escaped")
    assert done.returncode == 1
    assert "sandbox: Landlock confines this process and may have denied that access" in (
        done.stderr
    )


def test_sandbox_setting_is_checked(env: dict[str, str]) -> None:
    done = run(
        str(BIN / "pybpftool"),
        "object",
        "show",
        os.devnull,
        env={**env, "PYBPFTOOL_SANDBOX": "maybe"},
    )
    assert done.returncode == 1
    assert done.stderr == "pybpftool: PYBPFTOOL_SANDBOX=maybe: expected auto, on or off\n"


CONFINED_IMPORT = """
import importlib.util, sys
from pybpftool import sandbox
assert sandbox.confine(sandbox.command_policy([], None))
import pybpftool.btf.core as late  # first imported under the sandbox
cached = importlib.util.cache_from_source(late.__file__)
assert cached.startswith(sys.pycache_prefix), cached
with open(cached, "rb") as f:
    f.read(16)
print("bytecode readable")
"""


def test_bytecode_under_pythonpycacheprefix_stays_readable_confined(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Modules imported after confinement must not be recompiled from source on every run:
    that cost a cold pyip attach 200 ms when the bytecode lived under PYTHONPYCACHEPREFIX."""
    env = {**env, "PYTHONPYCACHEPREFIX": str(tmp_path / "pyc"), "PYBPFTOOL_SANDBOX": "on"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    package = Path(__file__).resolve().parents[2] / "pybpftool"
    compiled = run(sys.executable, "-m", "compileall", "-q", str(package), env=env)
    assert compiled.returncode == 0, compiled.stderr
    done = run(sys.executable, "-c", CONFINED_IMPORT, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "bytecode readable\n"


def two_objects(tmp_path: Path) -> tuple[str, str]:
    """two_objects: an action object in two folders, so that reading one grants nothing on
    the other."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    built = bpfobjs.build("static_prog", HOST)
    for folder in (first, second):
        (folder / "act.o").write_bytes(built.read_bytes())
    return str(first / "act.o"), str(second / "act.o")


@pytest.mark.parametrize("line", ["filter", "actions"])
def test_every_object_a_line_names_is_readable_confined(
    netns: str, env: dict[str, str], tmp_path: Path, line: str
) -> None:
    """Both programs load under the sandbox (this kernel lacks act_bpf, so the line then fails
    at the kernel, after the loads)."""
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    a, b = two_objects(tmp_path)
    action = ["action", "bpf", "obj", b, "sec", "action", "verbose"]
    if line == "filter":
        first = ["filter", "add", "dev", "v0", "ingress", "bpf", "da", "obj", a, "sec", "action"]
    else:
        first = ["actions", "add", "action", "bpf", "obj", a, "sec", "action", "verbose"]
    done = run(str(BIN / "pytc"), "-n", netns, *first, *action, env=env)
    assert "Cannot initialize ELF context!" not in done.stderr
    assert done.stderr.count("Prog section 'action' loaded") == (1 if line == "filter" else 2)
    assert "Error: Failed to load TC action module." in done.stderr
