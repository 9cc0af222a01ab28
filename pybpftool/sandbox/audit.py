"""audit: Landlock's audit records, read from the kernel's audit multicast (no auditd).

A NETLINK_AUDIT socket bound to group 1 (AUDIT_NLGRP_READLOG, needs CAP_AUDIT_READ) receives
every record as text: `audit(<sec>.<msec>:<serial>): domain=<hex> blockers=fs.truncate
path="/x" dev="vda" ino=12` (type 1423, LANDLOCK_ACCESS) and `domain=<hex> status=allocated
mode=enforcing pid=<pid> ...` (type 1424, LANDLOCK_DOMAIN). Records exist only while audit is
enabled (AUDIT_GET/AUDIT_SET, `auditctl -e`).
"""

# Annotations are evaluated here (no `from __future__ import annotations`): a NamedTuple
# field given as a string costs typing a compile() when the class is made.

import contextlib
import errno
import re
import struct
import time
from collections import deque
from collections.abc import Iterator
from typing import NamedTuple

from pybpftool.kernel.nlgroup import SOL_SOCKET, NetlinkGroup

NETLINK_AUDIT = 9
AUDIT_NLGRP_READLOG = 1
AUDIT_GET, AUDIT_SET = 1000, 1001
AUDIT_STATUS_ENABLED = 1
LANDLOCK_ACCESS, LANDLOCK_DOMAIN = 1423, 1424
NLM_F_REQUEST, NLM_F_ACK = 1, 4
SO_RCVBUFFORCE = 33  # asm-generic/socket.h: SO_RCVBUF past rmem_max (CAP_NET_ADMIN)
RECEIVE_BUFFER = 4 << 20
READ_LIMIT = 0.5  # seconds spent reading a busy stream, at most
PENDING = 1024  # denials of a domain not yet known to be ours or not
KEPT = 256  # denials of ours waiting to be explained
_NLMSG = struct.Struct("=IHHII")
_FIELD = r'(\w+)=("(?:[^"]*)"|\S+)'  # compiled (and cached by re) when a record is read


class Denial(NamedTuple):
    """Denial: one LANDLOCK_ACCESS record."""

    domain: str
    blockers: tuple[str, ...]
    path: str | None
    serial: str


class Domain(NamedTuple):
    """Domain: one LANDLOCK_DOMAIN record (allocation names the pid that created it)."""

    domain: str
    status: str
    pid: int | None


def fields(text: str) -> dict[str, str]:
    """fields: key=value pairs of a record; quoted values unquoted, hex strings left as sent."""
    return {k: v[1:-1] if v.startswith('"') else v for k, v in re.findall(_FIELD, text)}


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
    """AuditReader: the kernel's audit multicast, opened before confinement.

    The stream carries every process's records: when others are denied faster than we read,
    the kernel drops what does not fit and the next read fails with ENOBUFS. That is noted
    (`lost`), never raised: records of ours may be among the dropped ones.
    """

    def __init__(self) -> None:
        self.sock = NetlinkGroup(NETLINK_AUDIT, AUDIT_NLGRP_READLOG)  # non-blocking
        with contextlib.suppress(OSError):  # room for a burst of other processes' records
            self.sock.setsockopt(SOL_SOCKET, SO_RCVBUFFORCE, RECEIVE_BUFFER)
        self.lost = False

    def close(self) -> None:
        self.sock.close()

    def records(self, wait: float = 0.0, limit: float = READ_LIMIT) -> list[Denial | Domain]:
        """records: the Landlock records received so far, waiting up to `wait` for the first;
        reading stops after `limit` seconds even if others keep the stream busy."""
        import select  # only a denial is explained from the records

        out: list[Denial | Domain] = []
        timeout = wait
        deadline = time.monotonic() + wait + limit
        while time.monotonic() < deadline and select.select([self.sock], [], [], timeout)[0]:
            timeout = 0.05  # a burst belongs together
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                break
            except OSError as err:
                if err.errno != errno.ENOBUFS:
                    self.lost = True  # the stream is unusable: say so, never raise
                    break
                self.lost = True  # records were dropped; the stream goes on
                continue
            out.extend(_records_in(data))
        return out


def _records_in(data: bytes) -> Iterator[Denial | Domain]:
    """_records_in: the Landlock records of one netlink datagram."""
    pos = 0
    while pos + _NLMSG.size <= len(data):
        length, kind, _flags, _seq, _pid = _NLMSG.unpack_from(data, pos)
        if length < _NLMSG.size:
            break
        if kind in (LANDLOCK_ACCESS, LANDLOCK_DOMAIN):
            text = data[pos + _NLMSG.size : pos + length].split(b"\0", 1)[0]
            record = parse(kind, text.decode("utf-8", "replace"))
            if record is not None:
                yield record
        pos += (length + 3) & ~3


class OwnDenials:
    """OwnDenials: the denials of this process's own Landlock domain, picked out of the audit
    stream in bounded memory.

    Our domain is known from its `status=allocated` record, which names the pid that created
    it and comes in the same event as the domain's first denial, just after that denial: until
    then denials wait in a bounded queue; once it is known, other domains' denials are dropped.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.domains: set[str] = set()
        self.pending: deque[Denial] = deque(maxlen=PENDING)
        self.fresh: deque[Denial] = deque(maxlen=KEPT)  # ours, not yet explained
        self.dropped = 0  # ours, pushed out of `fresh` before being explained

    def add(self, records: list[Denial | Domain]) -> None:
        for record in records:
            if isinstance(record, Domain):
                if record.pid == self.pid and record.status == "allocated":
                    self._ours(record.domain)
            elif record.domain in self.domains:
                self._keep(record)
            elif not self.domains:
                self.pending.append(record)

    def take(self) -> tuple[list[Denial], int]:
        """take: our denials not explained before, and how many more were not kept."""
        out, dropped = list(self.fresh), self.dropped
        self.fresh.clear()
        self.dropped = 0
        return out, dropped

    def _ours(self, domain: str) -> None:
        self.domains.add(domain)
        waiting = list(self.pending)
        self.pending.clear()
        for denial in waiting:
            if denial.domain == domain:
                self._keep(denial)

    def _keep(self, denial: Denial) -> None:
        if len(self.fresh) == self.fresh.maxlen:
            self.dropped += 1
        self.fresh.append(denial)


def _request(kind: int, payload: bytes = b"") -> bytes:
    import socket  # asking the kernel's audit state happens only once a denial is explained

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
