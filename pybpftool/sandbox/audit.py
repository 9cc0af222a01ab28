"""audit: Landlock's audit records, read from the kernel's audit multicast (no auditd).

A NETLINK_AUDIT socket bound to group 1 (AUDIT_NLGRP_READLOG, needs CAP_AUDIT_READ) receives
every record as text: `audit(<sec>.<msec>:<serial>): domain=<hex> blockers=fs.truncate
path="/x" dev="vda" ino=12` (type 1423, LANDLOCK_ACCESS) and `domain=<hex> status=allocated
mode=enforcing pid=<pid> ...` (type 1424, LANDLOCK_DOMAIN). Records exist only while audit is
enabled (AUDIT_GET/AUDIT_SET, `auditctl -e`).
"""

from __future__ import annotations

import re
import select
import socket
import struct
from dataclasses import dataclass

NETLINK_AUDIT = 9
AUDIT_NLGRP_READLOG = 1
AUDIT_GET, AUDIT_SET = 1000, 1001
AUDIT_STATUS_ENABLED = 1
LANDLOCK_ACCESS, LANDLOCK_DOMAIN = 1423, 1424
NLM_F_REQUEST, NLM_F_ACK = 1, 4
_NLMSG = struct.Struct("=IHHII")
_FIELD = re.compile(r'(\w+)=("(?:[^"]*)"|\S+)')


@dataclass(frozen=True)
class Denial:
    """Denial: one LANDLOCK_ACCESS record."""

    domain: str
    blockers: tuple[str, ...]
    path: str | None
    serial: str


@dataclass(frozen=True)
class Domain:
    """Domain: one LANDLOCK_DOMAIN record (allocation names the pid that created it)."""

    domain: str
    status: str
    pid: int | None


def fields(text: str) -> dict[str, str]:
    """fields: key=value pairs of a record; quoted values unquoted, hex strings left as sent."""
    return {k: v[1:-1] if v.startswith('"') else v for k, v in _FIELD.findall(text)}


def parse(kind: int, text: str) -> Denial | Domain | None:
    serial = text.split(":", 1)[1].split(")", 1)[0] if text.startswith("audit(") else ""
    values = fields(text.split("): ", 1)[-1])
    if kind == LANDLOCK_ACCESS and "domain" in values:
        blockers = tuple(values.get("blockers", "").split(","))
        return Denial(values["domain"], blockers, values.get("path"), serial)
    if kind == LANDLOCK_DOMAIN and "domain" in values:
        pid = int(values["pid"]) if values.get("pid", "").isdigit() else None
        return Domain(values["domain"], values.get("status", ""), pid)
    return None


class AuditReader:
    """AuditReader: the kernel's audit multicast, opened before confinement."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_AUDIT)
        try:
            self.sock.bind((0, AUDIT_NLGRP_READLOG))
        except OSError:
            self.sock.close()
            raise
        self.sock.setblocking(False)

    def close(self) -> None:
        self.sock.close()

    def records(self, wait: float = 0.0) -> list[Denial | Domain]:
        """records: the Landlock records received so far (waiting up to `wait` for the first)."""
        out: list[Denial | Domain] = []
        timeout = wait
        while select.select([self.sock], [], [], timeout)[0]:
            timeout = 0.05  # a burst belongs together
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                break
            pos = 0
            while pos + _NLMSG.size <= len(data):
                length, kind, _flags, _seq, _pid = _NLMSG.unpack_from(data, pos)
                if length < _NLMSG.size:
                    break
                text = data[pos + _NLMSG.size : pos + length].split(b"\0", 1)[0]
                record = parse(kind, text.decode("utf-8", "replace"))
                if record is not None:
                    out.append(record)
                pos += (length + 3) & ~3
        return out


def _request(kind: int, payload: bytes = b"") -> bytes:
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_AUDIT) as sock:
        sock.bind((0, 0))
        header = _NLMSG.pack(_NLMSG.size + len(payload), kind, NLM_F_REQUEST | NLM_F_ACK, 1, 0)
        sock.send(header + payload)
        sock.settimeout(1.0)
        while True:
            data = sock.recv(65536)
            _length, rkind, _f, _s, _p = _NLMSG.unpack_from(data, 0)
            if rkind == kind:
                return data[_NLMSG.size :]
            if rkind == 2:  # NLMSG_ERROR: an ack (error 0) or a refusal
                (error,) = struct.unpack_from("=i", data, _NLMSG.size)
                if error:
                    raise OSError(-error, "audit request refused")
                if kind == AUDIT_SET:
                    return b""


def audit_enabled() -> int | None:
    """audit_enabled: the kernel's audit `enabled` value, None when it cannot be asked."""
    try:
        reply = _request(AUDIT_GET)
    except OSError:
        return None
    return int(struct.unpack_from("=IIII", reply)[1])


def set_audit_enabled(value: int) -> None:
    """set_audit_enabled: AUDIT_SET of `enabled` only (auditctl -e VALUE)."""
    status = struct.pack("=IIIIIIII", AUDIT_STATUS_ENABLED, value, 0, 0, 0, 0, 0, 0)
    _request(AUDIT_SET, status)
