"""The sandbox's explanation of a `Permission denied`, without a kernel: what the policy
refuses, which audit records are ours, and what is said (only what is known to be true).

The audit stream is a scripted socket; the process is never confined (STATE is set by hand).
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from pybpftool import sandbox
from pybpftool.errors import ElfContextError, FsAccess, KernelError, PinError
from pybpftool.sandbox import Policy, audit
from pybpftool.sandbox.audit import AuditReader, Denial, Domain, OwnDenials
from pybpftool.sandbox.explain import MAX_SHOWN, explain_denial, policy_denies, refused_access


def record(kind: int, text: str, serial: int = 1) -> bytes:
    """record: one audit netlink message as the kernel sends it (text NUL-terminated)."""
    payload = f"audit(1795385126.231:{serial}): {text}".encode() + b"\0"
    header = struct.pack("=IHHII", 16 + len(payload), kind, 0, 0, 0)
    return (header + payload).ljust((16 + len(payload) + 3) & ~3, b"\0")


def denial(domain: str, path: str, blockers: str = "fs.make_reg") -> bytes:
    return record(audit.LANDLOCK_ACCESS, f'domain={domain} blockers={blockers} path="{path}"')


def allocated(domain: str, pid: int) -> bytes:
    return record(audit.LANDLOCK_DOMAIN, f"domain={domain} status=allocated pid={pid} uid=0")


class ScriptedSocket:
    """ScriptedSocket: always readable for select(); recv() plays `script` (bytes to return,
    or an errno to fail with), then reports that nothing is left."""

    def __init__(self, script: list[bytes | int]) -> None:
        self.script = list(script)
        self.pair = socket.socketpair()
        self.pair[1].send(b"x")  # the real end select() watches stays readable

    def fileno(self) -> int:
        return self.pair[0].fileno()

    def recv(self, size: int) -> bytes:
        if not self.script:
            raise BlockingIOError(errno.EAGAIN, "nothing left")
        step = self.script.pop(0)
        if isinstance(step, int):
            raise OSError(step, os.strerror(step))
        return step

    def close(self) -> None:
        for end in self.pair:
            end.close()


def scripted_reader(script: list[bytes | int]) -> AuditReader:
    reader = AuditReader.__new__(AuditReader)
    reader.sock = ScriptedSocket(script)  # type: ignore[assignment]
    reader.lost = False
    return reader


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    obj = tmp_path / "prog.o"
    obj.write_bytes(b"")
    (tmp_path / "pins").mkdir()
    return Policy(read=(str(obj),), pin_root=str(tmp_path / "pins"))


@pytest.fixture
def confined(monkeypatch: pytest.MonkeyPatch, policy: Policy) -> Iterator[None]:
    """confined: STATE as after confinement with `policy`, audit reported enabled."""
    monkeypatch.setattr(sandbox.STATE, "enforced", True)
    monkeypatch.setattr(sandbox.STATE, "policy", policy)
    monkeypatch.setattr(sandbox.STATE, "reader", None)
    monkeypatch.setattr(sandbox.STATE, "own", None)
    monkeypatch.setattr(audit, "audit_enabled", lambda: 1)
    yield


def test_the_policy_allows_what_the_command_names_and_the_pin_root(policy: Policy) -> None:
    pins, obj = str(policy.pin_root), policy.read[0]
    assert policy_denies(policy, FsAccess("read_file", obj)) is False
    assert policy_denies(policy, FsAccess("read_file", "/etc/shadow")) is True
    assert policy_denies(policy, FsAccess("make_reg", f"{pins}/tc/globals/m")) is False
    assert policy_denies(policy, FsAccess("make_dir", f"{pins}/../escaped")) is True
    assert policy_denies(policy, FsAccess("ioctl_dev", "/dev/null")) is True
    assert policy_denies(policy, FsAccess("open_sesame", "/x")) is None


def test_the_refused_access_is_found_through_rewrapped_errors() -> None:
    access = FsAccess("make_reg", "/x/y")
    try:
        try:
            raise KernelError("obj pin", errno.EACCES, "Permission denied", access=access)
        except KernelError:
            raise PinError("Could not pin /x/y map: Permission denied") from None
    except PinError as err:
        assert refused_access(err) is access


def test_without_audit_a_tagged_refusal_the_policy_makes_gets_one_line(
    confined: None, policy: Policy
) -> None:
    outside = "/tmp/elsewhere/pin"
    err = PinError("Could not pin map: Permission denied", access=FsAccess("make_reg", outside))
    (line,) = explain_denial(err, wait=0)
    assert line.startswith(f"sandbox: Landlock does not allow creating {outside} (")
    assert f"(it may do that only beneath the pin root {policy.pin_root}); " in line


def test_a_refusal_the_policy_allows_or_names_nothing_gets_no_line(
    confined: None, policy: Policy
) -> None:
    allowed = FsAccess("read_file", policy.read[0])
    assert explain_denial(PinError("x: Permission denied", access=allowed), wait=0) == []
    assert explain_denial(PinError("x: Permission denied"), wait=0) == []


def test_only_our_domains_denials_about_the_failure_are_shown(confined: None) -> None:
    pid = os.getpid()
    sandbox.STATE.reader = scripted_reader(
        [
            denial("aa1", "/srv/neighbour", "fs.read_file") * 3,  # another process's domain
            denial("aa1", "/tmp/outside"),  # another process, denied on the same path
            denial("bb2", "/etc/ssl/openssl.cnf", "fs.read_file"),  # ours, unrelated
            denial("bb2", "/tmp/outside") + allocated("bb2", pid),  # ours, the failure
            allocated("aa1", pid + 1),
            denial("aa1", "/srv/neighbour", "fs.read_file"),
            denial("aa1", "/tmp/outside"),
        ]
    )
    err = PinError("Permission denied", access=FsAccess("make_reg", "/tmp/outside/m"))
    assert explain_denial(err, wait=0) == [
        "sandbox: Landlock denied fs.make_reg on /tmp/outside (our domain bb2)"
    ]


def test_an_untagged_error_is_matched_by_the_paths_it_names(confined: None) -> None:
    sandbox.STATE.reader = scripted_reader(
        [
            denial("bb2", "/etc/ssl/openssl.cnf")
            + denial("bb2", "/srv/x")
            + allocated("bb2", os.getpid())
        ]
    )
    err = PinError("rename of /srv/x/tmp failed: Permission denied")
    assert explain_denial(err, wait=0) == [
        "sandbox: Landlock denied fs.make_reg on /srv/x (our domain bb2)"
    ]


def test_many_denials_are_bounded(confined: None) -> None:
    many = denial("bb2", "/srv/x") * (MAX_SHOWN + 7)  # the same access, tried again and again
    sandbox.STATE.reader = scripted_reader([many + allocated("bb2", os.getpid())])
    lines = explain_denial(PinError("/srv/x/m: Permission denied"), wait=0)
    assert len(lines) == MAX_SHOWN + 1
    assert lines[-1] == "sandbox: 7 more denials of our domain not shown"


def test_a_flooded_stream_is_noted_and_read_on_never_raised(confined: None) -> None:
    reader = scripted_reader(
        [errno.ENOBUFS, denial("bb2", "/tmp/outside") + allocated("bb2", os.getpid())]
    )
    records = reader.records(wait=0)
    assert reader.lost
    assert records == [
        Denial("bb2", ("fs.make_reg",), "/tmp/outside", "1"),
        Domain("bb2", "allocated", os.getpid()),
    ]


def test_a_broken_stream_falls_back_to_the_policy(confined: None) -> None:
    sandbox.STATE.reader = scripted_reader([errno.ENOBUFS, errno.EBADF])
    err = PinError("Permission denied", access=FsAccess("make_reg", "/tmp/outside/m"))
    (line,) = explain_denial(err, wait=0)
    assert line.startswith("sandbox: Landlock does not allow creating /tmp/outside/m")


def test_own_denials_wait_for_their_domain_in_bounded_memory() -> None:
    own = OwnDenials(pid=10)
    others = [Denial(f"d{i}", ("fs.read_file",), "/x", str(i)) for i in range(5000)]
    own.add([*others, Denial("ours", ("fs.make_reg",), "/p", "1"), Domain("ours", "allocated", 10)])
    fresh, dropped = own.take()
    assert [d.domain for d in fresh] == ["ours"] and dropped == 0
    assert len(own.pending) == 0
    own.add(others)  # our domain is known now: the others are dropped at once
    assert own.take() == ([], 0) and len(own.pending) == 0


def test_an_object_the_sandbox_keeps_unreadable_gets_its_line_under_tcs_words(
    confined: None,
) -> None:
    """iproute2 says only `Cannot initialize ELF context!` for an unreadable object; under
    the sandbox the line that says why follows it (pytc, pyip)."""
    from pybpftool.cli.common.failures import load_failure_text

    outside = "/srv/elsewhere/act.o"
    err = ElfContextError(f"{outside}: Permission denied", access=FsAccess("read_file", outside))
    first, second = load_failure_text(err).split("\n")
    assert first == "Cannot initialize ELF context!"
    assert second.startswith(f"sandbox: Landlock does not allow reading {outside} (it may read ")
