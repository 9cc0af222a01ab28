"""The Landlock sandbox, each case in a child process: the normal path works confined, what
the policy must deny is denied, and the kernel's audit records name the blocker.

Tests that need audit records enable audit and restore the previous state afterwards.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import bpfobjs
import pytest
from scripts import BIN, filter_argv, run

from pybpftool.sandbox.audit import audit_enabled

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"


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
sys.exit(main(sys.argv[1:], console=True))  # a process of its own, as pytc
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
    netns: str, env: dict[str, str], other_bpffs: Path, bpffs: str
) -> None:
    """The pin's folder, outside the pin root, cannot even be opened (to be locked)."""
    if audit_enabled():
        pytest.fail("audit is on outside the audit fixture: the state was not restored")
    done = bypassed_add(netns, env, other_bpffs / "escaped")
    assert done.returncode == 1
    cache = os.environ["PYBPFTOOL_CACHE_DIR"]
    assert sandbox_lines(done.stderr) == [
        f"sandbox: Landlock does not allow opening the folder {other_bpffs} (it may read only "
        f"the files the command names, its own library folders and beneath the pin root "
        f"{bpffs} or the CO-RE index cache {cache}); with audit on (auditctl -e 1) the "
        "kernel's record is shown, PYBPFTOOL_SANDBOX=off runs unconfined"
    ]


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


LINES = {  # a line naming two objects; the kernel (no act_bpf, no templates for bpf) refuses it
    "filter": (
        ["filter", "add", "dev", "v0", "ingress", "bpf", "da", "obj", "{a}", "sec", "action"],
        "Error: Failed to load TC action module.",
    ),
    "actions": (
        ["actions", "add", "action", "bpf", "obj", "{a}", "sec", "action", "verbose"],
        "Error: Failed to load TC action module.",
    ),
    "chain": (
        [
            "chain",
            "add",
            "dev",
            "v0",
            "ingress",
            "chain",
            "1",
            "bpf",
            "da",
            "obj",
            "{a}",
            "sec",
            "action",
            "verbose",
        ],
        "Error: Chain templates are not supported with specified classifier.",
    ),
}


@pytest.mark.parametrize("line", LINES)
def test_every_object_a_line_names_is_readable_confined(
    netns: str, env: dict[str, str], tmp_path: Path, line: str
) -> None:
    """Both programs load under the sandbox, then the line fails at the kernel."""
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    a, b = two_objects(tmp_path)
    words, refusal = LINES[line]
    first = [a if word == "{a}" else word for word in words]
    action = ["action", "bpf", "obj", b, "sec", "action", "verbose"]
    done = run(str(BIN / "pytc"), "-n", netns, *first, *action, env=env)
    assert "Cannot initialize ELF context!" not in done.stderr
    assert done.stderr.count("Prog section 'action' loaded") == (1 if line == "filter" else 2)
    assert refusal in done.stderr


NEIGHBOUR = """
import os, sys, time
from pybpftool.kernel import landlock as ll

abi = ll.abi_version()
ruleset = ll.create_ruleset(abi, ll.Ruleset(fs=ll.fs_mask(abi)))
ll.restrict_self(ruleset, 0)
os.close(ruleset)
burst, pause, target = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
print("confined", flush=True)
while True:
    for _ in range(burst):
        try:
            open(target).close()
        except OSError:
            pass
    time.sleep(pause)
"""


@contextlib.contextmanager
def confined_neighbour(target: Path, burst: int, pause: float) -> Iterator[None]:
    """confined_neighbour: another process, in a Landlock domain of its own, denied reading
    `target` (a file, or a folder it tries to open) `burst` times every `pause` seconds while
    the block runs; killed by its pid."""
    if not target.exists():
        target.write_text("not for the neighbour\n")
    argv = [sys.executable, "-c", NEIGHBOUR, str(burst), str(pause), str(target)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "confined\n"
        yield
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def sandbox_lines(stderr: str) -> list[str]:
    return [line for line in stderr.split("\n") if line.startswith("sandbox:")]


def test_the_explanation_names_only_our_own_denial(
    netns: str, env: dict[str, str], other_bpffs: Path, audit: None, tmp_path: Path
) -> None:
    secret = tmp_path / "neighbour-secret"
    with (
        confined_neighbour(secret, burst=1, pause=0.05),
        confined_neighbour(other_bpffs, burst=1, pause=0.05),  # denied where we are
    ):
        time.sleep(0.5)  # their denials are on the audit stream before ours and after
        done = bypassed_add(netns, env, other_bpffs / "escaped")
    assert done.returncode == 1, done.stderr
    assert str(secret) not in done.stderr
    (line,) = sandbox_lines(done.stderr)
    assert line.startswith(f"sandbox: Landlock denied fs.read_dir on {other_bpffs} (our domain ")


def test_a_flooded_audit_stream_degrades_to_the_plain_hint(
    netns: str, env: dict[str, str], other_bpffs: Path, audit: None, tmp_path: Path
) -> None:
    """A neighbour denied as fast as it can floods the audit multicast while pytc runs (with
    the kernel's default receive buffer, pytc's read failed with ENOBUFS): the explanation
    still comes, from the records that arrived or from the policy, never as a traceback.
    tests/unit/test_sandbox_explain.py drives the ENOBUFS itself."""
    with confined_neighbour(tmp_path / "neighbour-secret", burst=2000, pause=0.001):
        time.sleep(0.2)
        done = bypassed_add(netns, env, other_bpffs / "escaped")
    assert "Traceback" not in done.stderr
    assert done.returncode == 1, done.stderr
    assert f"cannot open pin folder {other_bpffs}: Permission denied" in done.stderr
    (line,) = sandbox_lines(done.stderr)
    assert str(other_bpffs) in line


PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


def without_dac_override() -> None:
    """without_dac_override: (in the child, before exec) root loses the capabilities that
    let it read any file, so that the kernel's own permission check refuses a mode-000 file."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_CAPBSET_DROP")


@pytest.mark.parametrize("with_audit", [False, True], ids=["no-audit", "audit"])
def test_a_refusal_by_the_kernel_is_not_blamed_on_the_sandbox(
    netns: str,
    env: dict[str, str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    with_audit: bool,
) -> None:
    """The object is named on the command line, so the sandbox lets it be read: the kernel's
    own permission check refuses it (root without CAP_DAC_OVERRIDE, mode 000)."""
    if with_audit:
        request.getfixturevalue("audit")
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    locked = tmp_path / "locked.o"
    locked.write_bytes(bpfobjs.build("legacy_maps", HOST).read_bytes())
    locked.chmod(0)
    done = subprocess.run(
        filter_argv(netns, "add", str(locked)),
        capture_output=True,
        text=True,
        env={**env, "PYBPFTOOL_SANDBOX": "on"},
        preexec_fn=without_dac_override,
    )
    assert (done.returncode, done.stderr) == (
        1,
        "Cannot initialize ELF context!\nUnable to load program\n",
    )
