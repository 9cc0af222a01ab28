"""linkcmd: `pyip link ...` (ip/iplink.c do_iplink): which command a line asks for, and
`ip link help`. Listing (linklist.py) and `link set` with XDP (link.py) are imported only by
the command that runs them: `pyip link show` does not load the XDP grammar.
"""

from __future__ import annotations

from pybpftool.cli.common.grammar import IprouteExit, matches

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up)
if TYPE_CHECKING:
    from pybpftool.cli.common.context import RunContext

LINK_COMMANDS = ("add", "set", "change", "replace", "delete", "show", "lst", "list",
                 "xstats", "afstats", "property", "help")  # fmt: skip


def link_command(run: RunContext, args: list[str]) -> int:
    """link_command: `pyip link ...`: list (the default), set/change with XDP, help."""
    from pybpftool.cli.ip.linklist import link_list

    if not args:
        return link_list(run.opts, [])
    command = next((c for c in LINK_COMMANDS if matches(args[0], c)), None)
    if command in ("set", "change"):
        from pybpftool.cli.ip.link import link_set

        return link_set(run, args[1:])
    if command in ("show", "list", "lst"):
        return link_list(run.opts, args[1:])
    if command == "help":
        return link_help(args[1:])
    if command is None:
        raise IprouteExit(f'Command "{args[0]}" is unknown, try "ip link help".', 255)
    raise IprouteExit(f"pyip link {command}: not implemented by pyip in this version.", 255)


# ip link types with their own help text (link_util.print_help): refused, not guessed at.
_KINDS_WITH_HELP = (
    "amt bareudp bond bond_slave bridge bridge_slave can dsa erspan geneve gre gretap gtp "
    "hsr ip6erspan ip6gre ip6gretap ip6tnl ipip ipoib ipvlan ipvtap lowpan macsec macvlan "
    "macvtap netdevsim rmnet sit team team_slave vcan veth vlan vrf vti vti6 vxcan vxlan "
    "xfrm virt_wifi"
)
LINK_KINDS_WITH_HELP = frozenset(_KINDS_WITH_HELP.split())


def link_help(args: list[str]) -> int:
    """link_help: do_help(): ip link's usage (exit 255), or a link type's own help."""
    from pybpftool.cli.ip.usage import LINK_USAGE

    if args and args[0] in LINK_KINDS_WITH_HELP:
        raise IprouteExit(
            f'pyip link help {args[0]}: the help of link type "{args[0]}" is not '
            "implemented by pyip in this version.",
            255,
        )
    raise IprouteExit(LINK_USAGE.rstrip("\n"), 255, fatal=True)
