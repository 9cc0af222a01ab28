"""linklist: `ip link [show|list|lst] [[dev] DEV] [up] [group G] [master DEV] [vrf NAME]
[nomaster] [type KIND] [label L] [scope S] [FLAG...]` as ip 6.1 parses and runs it
(ip/ipaddress.c ipaddr_list_flush_or_save with do_link, print_linkinfo's filters).

A device alone is fetched by name (iplink_get, filters checked when printing); with a group
the link is fetched by index; otherwise every link is dumped and filtered.
"""

from __future__ import annotations

import os
import sys

from pybpftool.cli.common.grammar import GlobalOptions, IprouteExit, matches
from pybpftool.cli.common.ifnames import name_to_index
from pybpftool.cli.common.words import Words, duparg2, invarg
from pybpftool.cli.ip.linknames import read_groups
from pybpftool.netlink import Link

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pybpftool.cli.ip.linkshow import ShowOptions

IFF_UP = 0x1
SCOPES = {"global": 0, "nowhere": 255, "host": 254, "link": 253, "site": 200}
SCOPE_FILE = "/etc/iproute2/rt_scopes"
# ip/ipaddress.c ifa_flag_data: address flags, accepted (and meaningless) in `link show`
_ADDRESS_FLAGS = (
    "secondary temporary nodad optimistic dadfailed home deprecated tentative permanent "
    "mngtmpaddr noprefixroute autojoin stable-privacy dynamic primary"
)
ADDRESS_FLAGS = frozenset(_ADDRESS_FLAGS.split())


class LinkFilter:
    """LinkFilter: what the words after `ip link show` select (filled in as they are read;
    a plain class: `pyip link show` imports no dataclasses)."""

    def __init__(
        self,
        dev: str | None = None,
        up: bool = False,
        group: int = -1,
        master: int = 0,
        kind: str | None = None,
        slave_kind: str | None = None,
        label: str | None = None,
    ) -> None:
        self.dev = dev
        self.up = up
        self.group = group
        self.master = master  # -1: nomaster
        self.kind = kind
        self.slave_kind = slave_kind
        self.label = label


def parse_filter(words: Words, lookup: object) -> LinkFilter:
    """parse_filter: the selector loop, in ip's order and with its messages. `lookup` maps a
    device name to its ifindex (0 if none), as ll_name_to_index()."""
    filt = LinkFilter()
    while words:
        word = words.take()
        if word == "to":
            raise IprouteExit(
                f'Error: "{words.take()}" may be inet prefix, but it is not allowed in this '
                "context.",
                1,
                fatal=True,
            )
        if word == "scope":
            value = words.take()
            if _scope(value) is None and value != "all":
                raise invarg('invalid "scope"\n', value)
        elif word == "up":
            filt.up = True
        elif word.removeprefix("-") in ADDRESS_FLAGS:
            pass
        elif word == "label":
            filt.label = words.take()
        elif word == "group":
            value = words.take()
            filt.group = _group(value)
        elif word in ("master", "vrf"):
            _master(filt, word, words.take(), lookup)
        elif word == "nomaster":
            filt.master = -1
        elif word == "type":
            kind = words.take()
            if kind.endswith("_slave"):
                filt.slave_kind = kind.removesuffix("_slave")
            else:
                filt.kind = kind
        else:
            if word == "dev":
                word = words.take()
            elif matches(word, "help"):
                from pybpftool.cli.ip.usage import LINK_USAGE

                raise IprouteExit(LINK_USAGE.rstrip("\n"), 255, fatal=True)
            if filt.dev is not None:
                raise duparg2("dev", word)
            filt.dev = word
    return filt


def _master(filt: LinkFilter, word: str, name: str, lookup: object) -> None:
    index = lookup(name)  # type: ignore[operator]
    if word == "master":
        if not index:
            raise invarg("Device does not exist\n", name)
    elif not index or not _is_vrf(name):
        raise invarg("Not a valid VRF name\n", name)
    filt.master = index


def _is_vrf(name: str) -> bool:
    from pybpftool.cli.ip.vrf import vrfs

    return name in vrfs()


def _scope(text: str) -> int | None:
    """_scope: rtnl_rtscope_a2n(): a name (built in, or from rt_scopes) or 0..255."""
    from pybpftool.cscan import c_unsigned

    names = dict(SCOPES)
    names.update({name: ident for ident, name in read_groups(SCOPE_FILE).items() if ident < 256})
    if text in names:
        return names[text]
    return c_unsigned(text, 0, limit=255)


def _group(text: str) -> int:
    """_group: rtnl_group_a2n(): a group name, or strtol(0) cast to an int, not negative."""
    from pybpftool.cscan import c_strtol

    names = {name: ident for ident, name in read_groups().items()}
    if text in names:
        return names[text]
    value, end = c_strtol(text, 0)
    value = (value + (1 << 31)) % (1 << 32) - (1 << 31)  # long to int
    if end == 0 or end != len(text) or value < 0:
        raise invarg('Invalid "group" value\n', text)
    return value


def selected(link: Link, filt: LinkFilter) -> bool:
    """selected: print_linkinfo's own filters (master and kind again: a kernel that does not
    know the kind lists every link)."""
    if filt.up and not link.flags & IFF_UP:
        return False
    group = link.attrs.get("IFLA_GROUP")
    if group is not None and filt.group != -1 and group != filt.group:
        return False
    master = link.extras.master
    if filt.master == -1 and master:
        return False
    if filt.master > 0 and master != filt.master:
        return False
    if filt.kind is not None and link.kind != filt.kind:
        return False
    if filt.slave_kind is not None:
        info = link.attrs.get("IFLA_LINKINFO")
        slave = info.get("IFLA_INFO_SLAVE_KIND") if info is not None else None
        if info is None or (slave or "") != filt.slave_kind:
            return False
    return True


def show_options(opts: GlobalOptions) -> ShowOptions:
    from pybpftool.cli.ip.linkshow import ShowOptions

    return ShowOptions(
        details=opts.details,
        stats=opts.stats,
        json=opts.json,
        pretty=opts.pretty,
        brief=opts.brief,
        oneline=opts.oneline,
        numeric=opts.numeric,
        human=bool(opts.extra.get("human")),
        iec=bool(opts.extra.get("iec")),
    )


def link_list(opts: GlobalOptions, args: list[str]) -> int:
    """link_list: `ip link show ...`: parse, fetch, filter and print."""
    from pybpftool.cli.common.color import painter
    from pybpftool.cli.ip.linknames import LinkNames
    from pybpftool.cli.ip.linkshow import render
    from pybpftool.netlink import Netlink

    with Netlink() as nl:
        filt = parse_filter(Words(args), lambda name: name_to_index(nl, name))
        links = _fetch(nl, filt, opts)
        # every link fetched reaches print_linkinfo(), which leaves out what the filters do
        # not select (a label, in a link listing, every link)
        listed = [link if filt.label is None and selected(link, filt) else None for link in links]
        show = show_options(opts)
        names = LinkNames(nl, links if filt.dev is None else [], show.numeric)
        names.load_progs([link for link in listed if link is not None])
        text = render(listed, names, show, painter(opts.extra.get("color"), opts.json))
    sys.stdout.write(text)
    return 0


def _fetch(nl: object, filt: LinkFilter, opts: GlobalOptions) -> list[Link]:
    from pybpftool.errors import NetlinkFailure

    if filt.dev is None:  # iplink_filter_req(): the kernel leaves out other masters and kinds
        return nl.links(  # type: ignore[attr-defined, no-any-return]
            master=filt.master, kind=filt.kind, details=bool(opts.details)
        )
    index = name_to_index(nl, filt.dev)
    if index <= 0 or index >= 1 << 31:
        raise IprouteExit(f'Device "{filt.dev}" does not exist.', 1)
    if filt.group == -1:
        try:
            return [nl.link_by_name(filt.dev, details=bool(opts.details))]  # type: ignore[attr-defined]
        except NetlinkFailure as err:  # iplink_get(): perror(), the JSON array closed, exit(1)
            from pybpftool.cli.common import jsonw
            from pybpftool.cli.common.failures import netlink_message

            if opts.json:
                sys.stdout.write(jsonw.dumps([], pretty=opts.pretty) + "\n")
            text = f"{netlink_message(err)}\nCannot send link get request: {os.strerror(err.errno)}"
            raise IprouteExit(text, 1, fatal=True) from None
    try:
        return nl.links(index, details=bool(opts.details))  # type: ignore[attr-defined, no-any-return]
    except NetlinkFailure as err:  # ipaddr_link_get(): perror(), then an empty listing
        from pybpftool.cli.common.failures import netlink_message

        sys.stderr.write(
            f"{netlink_message(err)}\nCannot send link request: {os.strerror(err.errno)}\n"
        )
        return []
