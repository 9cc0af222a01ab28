"""linknames: the names `ip link show` prints for numbers: peers and masters by ifindex
(lib/ll_map.c), device groups (/etc/iproute2/group, lib/rt_names.c), namespaces by nsid
(ip/ipnetns.c get_name_from_nsid), link types (lib/ll_types.c) and XDP programs by id.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from pybpftool.netlink import Link

GROUP_FILE = "/etc/iproute2/group"
NETNS_RUN_DIR = "/var/run/netns"

ARPHRD = {
    0: "netrom", 1: "ether", 2: "eether", 3: "ax25", 4: "pronet", 5: "chaos",
    6: "ieee802", 7: "arcnet", 8: "atalk", 15: "dlci", 19: "atm", 23: "metricom",
    24: "ieee1394", 32: "infiniband", 256: "slip", 257: "cslip", 258: "slip6",
    259: "cslip6", 260: "rsrvd", 264: "adapt", 270: "rose", 271: "x25", 272: "hwx25",
    280: "can", 512: "ppp", 513: "hdlc", 516: "lapb", 517: "ddcmp", 518: "rawhdlc",
    768: "ipip", 769: "tunnel6", 770: "frad", 771: "skip", 772: "loopback", 773: "ltalk",
    774: "fddi", 775: "bif", 776: "sit", 777: "ip/ddp", 778: "gre", 779: "pimreg",
    780: "hippi", 781: "ash", 782: "econet", 783: "irda", 784: "fcpp", 785: "fcal",
    786: "fcpl", **{787 + i: f"fcfb{i}" for i in range(13)}, 800: "tr", 801: "ieee802.11",
    802: "ieee802.11/prism", 803: "ieee802.11/radiotap", 804: "ieee802.15.4",
    805: "ieee802.15.4/monitor", 820: "phonet", 821: "phonet_pipe", 822: "caif",
    823: "gre6", 824: "netlink", 825: "6lowpan", 65534: "none", 65535: "void",
}  # fmt: skip


def link_type_name(ifi_type: int, numeric: bool) -> str:
    """link_type_name: ll_type_n2a(): the ARPHRD name, or `[N]` (always with -Numeric)."""
    name = None if numeric else ARPHRD.get(ifi_type)
    return name if name is not None else f"[{ifi_type}]"


def read_groups(path: str = GROUP_FILE) -> dict[int, str]:
    """read_groups: id -> name of the group file, read as fread_id_name() does (`0xN name`
    or `N name`, `#` comments); a corrupt line ends the reading (ip warns on stderr)."""
    import re
    import sys

    groups: dict[int, str] = {}
    try:
        with open(path, errors="surrogateescape") as f:
            lines = f.readlines()
    except OSError:
        return groups
    for line in lines:
        text = line.lstrip(" \t")
        if not text or text[0] in "#\n":
            continue
        found = re.match(r"0x([0-9a-fA-F]+)\s*(\S+)|([-+]?\d+)\s*(\S+)", text)
        if found is None:
            sys.stderr.write(f"Database {path} is corrupted at {text}")
            break
        ident = int(found[1], 16) if found[1] else int(found[3])
        if ident >= 0:
            groups.setdefault(ident, found[2] or found[4])
    return groups


class LinkNames:
    """LinkNames: lookups a listing needs, cached for one command."""

    def __init__(self, nl: Any, links: list[Link], numeric: bool) -> None:
        self.nl = nl
        self.numeric = numeric
        self._links = {link.ifindex: link for link in links}
        self._groups: dict[int, str] | None = None
        self._netns: dict[int, str] | None = None
        self._progs: dict[int, Any] = {}

    def by_index(self, index: int) -> Link | None:
        """by_index: the link with `index` in this namespace (asked of the kernel when the
        listing did not hold it, as ll_index_to_name() does), None if there is none."""
        if index not in self._links:
            from pybpftool.errors import NetlinkFailure

            try:
                found = self.nl.links(index)
            except NetlinkFailure:
                found = []
            if not found:
                return None
            self._links[index] = found[0]
        return self._links[index]

    def name_of(self, index: int) -> str:
        """name_of: ll_index_to_name(): the name, `*` for 0, else `ifN`."""
        if index == 0:
            return "*"
        link = self.by_index(index)
        return link.name if link is not None else f"if{index}"

    def group_name(self, group: int) -> str:
        if self._groups is None:
            self._groups = {} if self.numeric else read_groups()
        return self._groups.get(group, str(group))

    def netns_name(self, nsid: int) -> str | None:
        """netns_name: the name in /var/run/netns of the namespace this one calls `nsid`."""
        if self._netns is None:
            self._netns = {}
            try:
                entries = os.listdir(NETNS_RUN_DIR)  # readdir order; the first name wins
            except OSError:
                entries = []
            for entry in entries:
                found = self._nsid_of(os.path.join(NETNS_RUN_DIR, entry))
                if found is not None:
                    self._netns.setdefault(found, entry)
        return self._netns.get(nsid)

    def _nsid_of(self, path: str) -> int | None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        from pybpftool.errors import NetlinkFailure

        try:
            return self.nl.nsid(fd)  # type: ignore[no-any-return]
        except NetlinkFailure as err:
            # ip's rtnl_talk() prints the kernel's reason and goes on (a file in the folder
            # that is no namespace, say one `ip netns add` has made but not yet mounted)
            from pybpftool.cli.common.failures import netlink_message

            sys.stderr.write(netlink_message(err) + "\n")
            return None
        finally:
            os.close(fd)

    def load_progs(self, links: list[Link]) -> None:
        """load_progs: the kernel's info of every XDP program the listing shows."""
        from pybpftool.cli.common.proginfo import prog_infos

        self._progs = prog_infos(
            pid
            for link in links
            if link.xdp is not None
            for pid in (
                link.xdp.prog_id,
                link.xdp.skb_prog_id,
                link.xdp.drv_prog_id,
                link.xdp.hw_prog_id,
            )
            if pid
        )

    def prog(self, prog_id: int) -> Any:
        return self._progs.get(prog_id)
