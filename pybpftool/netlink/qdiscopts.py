"""qdiscopts: the TCA_OPTIONS of the qdisc kinds whose options pytc parses, as typed records
and their encoding byte for byte as tc 6.1's parsers build it (q_htb.c, q_fifo.c). Pure."""

from __future__ import annotations

from typing import NamedTuple

from pybpftool.netlink.attrs import rtattr, u32

TCA_HTB_INIT, TCA_HTB_DIRECT_QLEN, TCA_HTB_OFFLOAD = 2, 5, 9
TC_HTB_PROTOVER = 3


class HtbOptions(NamedTuple):
    """HtbOptions: q_htb.c htb_parse_opt: struct tc_htb_glob {version, rate2quantum, defcls,
    debug, direct_pkts} in TCA_HTB_INIT (always sent), then TCA_HTB_DIRECT_QLEN and
    TCA_HTB_OFFLOAD when given."""

    r2q: int = 10
    defcls: int = 0
    debug: int = 0
    direct_qlen: int | None = None
    offload: bool = False


class FifoOptions(NamedTuple):
    """FifoOptions: q_fifo.c fifo_parse_opt: struct tc_fifo_qopt {limit}."""

    limit: int


QdiscOptions = HtbOptions | FifoOptions


def qdisc_options(options: QdiscOptions) -> bytes:
    """qdisc_options: the TCA_OPTIONS payload of `options`."""
    if isinstance(options, FifoOptions):
        return u32(options.limit)
    glob = u32(TC_HTB_PROTOVER) + u32(options.r2q) + u32(options.defcls) + u32(options.debug)
    payload = rtattr(TCA_HTB_INIT, glob + u32(0))
    if options.direct_qlen is not None:
        payload += rtattr(TCA_HTB_DIRECT_QLEN, u32(options.direct_qlen))
    if options.offload:
        payload += rtattr(TCA_HTB_OFFLOAD, b"")
    return payload
