"""core: the rtnetlink socket (Netlink) and what it does on links: name lookups, XDP
attach and detach, link dumps for `ip link show`, and cls_bpf filter requests.

Requests are pyroute2 messages sent on a socket of our own, opened with extended acks, so
kernel refusals carry the kernel's own text (NetlinkFailure: errno and that text). The socket
may be opened in another network namespace (`Netlink(netns=...)`): only the socket goes
there, the calling thread comes straight back (kernel.netns.in_netns). A link message
becomes a Link record in linkattrs.py, which only the commands that read links import.
"""

import errno
import mmap
import os
import socket
import struct
from typing import TYPE_CHECKING, Any

from pybpftool.errors import NetlinkFailure
from pybpftool.netlink.codecs import bpf_filter_message, light_codecs
from pybpftool.netlink.linkcodec import link_codec
from pybpftool.netlink.uapi import (
    NETLINK_CAP_ACK,
    NETLINK_EXT_ACK,
    NETLINK_GET_STRICT_CHK,
    NLM_F_ACK,
    NLM_F_DUMP,
    NLM_F_ECHO,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    RTM_GETLINK,
    RTM_NEWLINK,
    SOL_NETLINK,
)

if TYPE_CHECKING:  # the link records are imported by the commands that read links
    from pybpftool.netlink.linkattrs import Link, XdpState

RECV_SIZE = 1 << 20


class Netlink:
    """Netlink: an rtnetlink socket in the calling thread's network namespace, or in `netns`
    (a name under /var/run/netns or a path) when given.

    Requests are pyroute2 messages (its nlmsg classes: linkcodec's, tcmsg and cls_bpf's) sent
    on a plain socket of our own: pyroute2's IPRoute would pull in asyncio, ssl and unittest
    (~70 ms of every cold start) for nothing we need.
    """

    def __init__(self, netns: str | None = None) -> None:
        if netns is None:
            self.sock = _rtnetlink_socket()
        else:
            from pybpftool.kernel.netns import in_netns

            self.sock = in_netns(netns, _rtnetlink_socket)
        self._seq = 0
        # One receive buffer for the socket's life, in anonymous memory: its pages are mapped
        # as the kernel first writes them (a few for any reply), where a bytearray would
        # zero all 256 of them first, ~0.6 ms of every cold command.
        self._buffer = mmap.mmap(-1, RECV_SIZE)

    def close(self) -> None:
        self.sock.close()

    def request(self, msg: Any, msg_type: int, flags: int, reply: Any = None) -> tuple[Any, ...]:
        """request: send pyroute2 message `msg` as `msg_type` with `flags` (plus NLM_F_REQUEST)
        and return the decoded replies (as `reply`'s class, by default `msg`'s) up to the ack or
        NLMSG_DONE; a refusal raises NetlinkFailure with the kernel's extack text."""
        self._seq += 1
        header = msg["header"]
        header["type"], header["flags"] = msg_type, flags | NLM_F_REQUEST
        header["sequence_number"], header["pid"] = self._seq, 0
        msg.encode()
        self.sock.send(bytes(msg.data))
        return self._replies(flags, reply or type(msg))

    def _replies(self, flags: int, decode_as: Any) -> tuple[Any, ...]:
        """_replies: the replies to the request just sent (sequence number self._seq),
        decoded as `decode_as`, up to its ack or NLMSG_DONE (see request)."""
        ack = light_codecs()["ack"]
        found: list[Any] = []
        view = memoryview(self._buffer)
        while True:
            buf = bytes(view[: self.sock.recv_into(self._buffer)])
            offset = 0
            while offset + 16 <= len(buf):
                length, kind, _flags, seq = struct.unpack_from("=IHHI", buf, offset)
                if length < 16:
                    raise NetlinkFailure(errno.EBADMSG, "truncated netlink message")
                if seq == self._seq:
                    if kind == NLMSG_DONE:
                        return tuple(found)
                    if kind == NLMSG_ERROR:
                        err = ack(buf, offset=offset, length=length)
                        err.decode()
                        code = -int(err["error"])
                        if code:
                            extack = err.get_attr("NLMSGERR_ATTR_MSG") or None
                            raise NetlinkFailure(code, extack or os.strerror(code), extack)
                        return tuple(found)
                    message = decode_as(buf, offset=offset, length=length)
                    message.decode()
                    found.append(message)
                offset += (length + 3) & ~3
            if not flags & NLM_F_DUMP and not flags & NLM_F_ACK and found:
                return tuple(found)

    def _ifinfmsg(self, index: int = 0, attrs: list[list[Any]] | None = None) -> Any:
        msg = link_codec()()
        msg["family"], msg["index"] = 0, index
        msg["attrs"] = attrs or []
        return msg

    def __enter__(self) -> "Netlink":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def link_index(self, name: str) -> int | None:
        """link_index: the ifindex of link `name` (by IFLA_IFNAME, or IFLA_ALT_IFNAME for a
        name an ifname cannot be, as iplink_get() asks), None if there is none.

        SIOCGIFINDEX on the socket itself asks the kernel's own name lookup, the one
        RTM_GETLINK uses (alternative names included), in the socket's namespace whatever
        the calling thread's, for a few microseconds instead of ~250 of encoding and decoding
        a whole link message (if_nametoindex would open a socket per call, in the thread's
        namespace). A name it does not find is asked over netlink, so a missing or odd name
        is answered as before (iproute2's ll_name_to_index also falls back to
        if_nametoindex)."""
        index = _ioctl_index(self.sock, name)
        if index:
            return index
        attr = "IFLA_IFNAME" if _valid_ifname(name) else "IFLA_ALT_IFNAME"
        msg = self._ifinfmsg(attrs=[[attr, name]])
        try:
            found = self.request(msg, RTM_GETLINK, NLM_F_ACK)
        except NetlinkFailure as err:
            if err.errno in (errno.ENODEV, errno.EINVAL):  # EINVAL: no such name can exist
                return None
            raise
        return int(found[0]["index"]) if found else None

    def xdp_set(self, index: int, fd: int, flags: int) -> None:
        """xdp_set: RTM_NEWLINK with IFLA_XDP {FD, FLAGS if nonzero}; fd -1 detaches."""
        xdp: list[list[Any]] = [["IFLA_XDP_FD", fd]]
        if flags:
            xdp.append(["IFLA_XDP_FLAGS", flags])
        msg = self._ifinfmsg(index, [["IFLA_XDP", {"attrs": xdp}]])
        self.request(msg, RTM_NEWLINK, NLM_F_ACK)

    def links(
        self,
        index: int | None = None,
        master: int = 0,
        kind: str | None = None,
        details: bool = True,
    ) -> "list[Link]":
        """links: every link (or the one with `index`), decoded for `ip link show`. A dump
        asks the kernel to leave out the links of another `master` (-1: those with one) and,
        when it knows `kind`, of another kind, as iplink_filter_req() asks. Without `details`
        the links carry no DETAIL_ATTRS (nor addrgenmode)."""
        if index is None:
            attrs: list[list[Any]] = []
            if master:
                attrs.append(["IFLA_MASTER", master & 0xFFFFFFFF])
            if kind is not None:
                attrs.append(["IFLA_LINKINFO", {"attrs": [["IFLA_INFO_KIND", kind]]}])
            found = self.request(self._ifinfmsg(attrs=attrs), RTM_GETLINK, NLM_F_DUMP)
        else:
            found = self.request(self._ifinfmsg(index), RTM_GETLINK, NLM_F_ACK)
        from pybpftool.netlink.linkattrs import link_record

        return [link_record(msg, details) for msg in found]

    def link_by_name(self, name: str, details: bool = True) -> "Link":
        """link_by_name: RTM_GETLINK of one link by name (IFLA_IFNAME, or IFLA_ALT_IFNAME for
        a name too long for an ifname), as iplink_get() asks; NetlinkFailure if refused.
        `details` as for links()."""
        attr = "IFLA_IFNAME" if _valid_ifname(name) else "IFLA_ALT_IFNAME"
        found = self.request(self._ifinfmsg(attrs=[[attr, name]]), RTM_GETLINK, NLM_F_ACK)
        from pybpftool.netlink.linkattrs import link_record

        return link_record(found[0], details)

    def nsid(self, netns_fd: int) -> int | None:
        """nsid: the id this namespace gave the namespace open at `netns_fd` (RTM_GETNSID),
        None if it has given none; NetlinkFailure when the kernel refuses saying why (`fd`
        is no namespace: "Peer netns reference is invalid")."""
        from pybpftool.netlink.linkattrs import error_extack, nsid_reply, nsid_request

        self._seq += 1
        self.sock.send(nsid_request(netns_fd, self._seq))
        buf = self.sock.recv(RECV_SIZE)
        length, kind = struct.unpack_from("=IH", buf)
        if kind == NLMSG_ERROR:
            code, extack = error_extack(buf[:length])
            if code and extack:
                raise NetlinkFailure(code, extack, extack)
            return None
        return nsid_reply(buf[:length])

    def xdp_state(self, index: int) -> "XdpState | None":
        from pybpftool.netlink.linkattrs import xdp_state_of

        return xdp_state_of(self.request(self._ifinfmsg(index), RTM_GETLINK, NLM_F_ACK)[0])

    def filter(self, command: str, index: int, echo: bool = False, **kw: Any) -> tuple[Any, ...]:
        """filter: add/replace/change/del a cls_bpf filter (kw as pyroute2's sched_bpf takes);
        with `echo` (NLM_F_ECHO) the kernel's copy of the filter comes back."""
        msg, msg_type, flags = bpf_filter_message(command, index, **kw)
        return self.request(msg, msg_type, flags | (NLM_F_ECHO if echo else 0))


SIOCGIFINDEX = 0x8933  # linux/sockios.h
IFNAMSIZ = 16
_IFREQ = struct.Struct("16si20x")  # struct ifreq: ifr_name, ifr_ifindex in a 24-byte union


def _ioctl_index(sock: socket.socket, name: str) -> int:
    """_ioctl_index: the index of link `name` in `sock`'s namespace (SIOCGIFINDEX, which
    any socket answers for its own namespace), 0 when the kernel finds none or the name
    cannot be an ifreq's (empty, 16 bytes or more, a NUL inside)."""
    import fcntl  # an extension module (a dlopen) that only name lookups need, not dumps

    raw = os.fsencode(name)
    if not raw or len(raw) >= IFNAMSIZ or b"\0" in raw:
        return 0
    try:
        reply = fcntl.ioctl(sock.fileno(), SIOCGIFINDEX, _IFREQ.pack(raw, 0))
    except OSError:
        return 0
    return int(_IFREQ.unpack(reply)[1])


def _rtnetlink_socket() -> socket.socket:
    """_rtnetlink_socket: NETLINK_ROUTE with extended acks and strict dump checks, bound.
    Its acks are capped (the request's header, not the whole request, comes back in an
    error's): each then reads as codecs' netlink_ack declares it."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    try:
        sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
        sock.bind((0, 0))
    except BaseException:
        sock.close()
        raise
    return sock


def _valid_ifname(name: str) -> bool:
    """_valid_ifname: lib/utils.c check_ifname(): 1-15 bytes, no '/' and no blank."""
    raw = name.encode("utf-8", "surrogateescape")
    return 0 < len(raw) < 16 and not any(c in b"/ \t\n\v\f\r" for c in raw)

