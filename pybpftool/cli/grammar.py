"""grammar: iproute2's keyword matching and global options, as pure functions.

Mirrors ip/ip.c and tc/tc.c main(): single-dash long options matched by prefix in a fixed
order (so `-b` is -batch, `-n` is -netns, tc's `-c` is -conf), no short-option clusters,
objects matched by prefix in table order (spec/iproute2.md §1.1-§1.2).
"""

from __future__ import annotations

from pybpftool.errors import UsageError


class IprouteExit(UsageError):
    """IprouteExit: an iproute2 message with the exact exit status iproute2 uses for it."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def matches(arg: str, keyword: str) -> bool:
    """matches: iproute2 matches(): `arg` is a non-empty prefix of `keyword`."""
    return bool(arg) and keyword.startswith(arg)


class GlobalOptions:
    """GlobalOptions: what the options before the object asked for."""

    # A plain class, not a dataclass: `pyip -V` must not pay for building one.
    __slots__ = (
        "batch",
        "brief",
        "details",
        "extra",
        "force",
        "help",
        "json",
        "netns",
        "numeric",
        "oneline",
        "pretty",
        "stats",
        "version",
    )

    def __init__(self) -> None:
        self.json = self.pretty = self.force = self.version = self.help = False
        self.oneline = self.numeric = self.brief = False
        self.details = self.stats = 0
        self.batch: str | None = None
        self.netns: str | None = None
        self.extra: dict[str, str | bool] = {}


# (keyword, attribute, takes_value) in the order ip.c tests them; the first match wins.
IP_OPTIONS: tuple[tuple[str, str, bool], ...] = (
    ("-loops", "loops", True),
    ("-family", "family", True),
    ("-human", "human", False),
    ("-human-readable", "human", False),
    ("-iec", "iec", False),
    ("-stats", "stats", False),
    ("-statistics", "stats", False),
    ("-details", "details", False),
    ("-resolve", "resolve", False),
    ("-oneline", "oneline", False),
    ("-timestamp", "timestamp", False),
    ("-tshort", "tshort", False),
    ("-Version", "version", False),
    ("-force", "force", False),
    ("-batch", "batch", True),
    ("-brief", "brief", False),
    ("-json", "json", False),
    ("-pretty", "pretty", False),
    ("-rcvbuf", "rcvbuf", True),
    ("-color", "color", False),
    ("-help", "help", False),
    ("-netns", "netns", True),
    ("-Numeric", "numeric", False),
    ("-all", "all", False),
)
IP_EXACT = {
    "-4": "family",
    "-6": "family",
    "-0": "family",
    "-M": "family",
    "-B": "family",
    "-echo": "echo",
}

TC_OPTIONS: tuple[tuple[str, str, bool], ...] = (
    ("-stats", "stats", False),
    ("-statistics", "stats", False),
    ("-details", "details", False),
    ("-raw", "raw", False),
    ("-pretty", "pretty", False),
    ("-graph", "graph", False),
    ("-Version", "version", False),
    ("-iec", "iec", False),
    ("-help", "help", False),
    ("-force", "force", False),
    ("-batch", "batch", True),
    ("-netns", "netns", True),
    ("-Numeric", "numeric", False),
    ("-names", "names", False),
    ("-nm", "names", False),
    ("-cf", "conf", True),
    ("-conf", "conf", True),
    ("-color", "color", False),
    ("-timestamp", "timestamp", False),
    ("-tshort", "tshort", False),
    ("-json", "json", False),
    ("-oneline", "oneline", False),
    ("-brief", "brief", False),
)

IP_OBJECTS = (
    "address",
    "addrlabel",
    "maddress",
    "route",
    "rule",
    "neighbor",
    "neighbour",
    "ntable",
    "ntbl",
    "link",
    "l2tp",
    "fou",
    "ila",
    "macsec",
    "tunnel",
    "tunl",
    "tuntap",
    "tap",
    "token",
    "tcpmetrics",
    "tcp_metrics",
    "monitor",
    "xfrm",
    "mroute",
    "mrule",
    "netns",
    "netconf",
    "vrf",
    "sr",
    "nexthop",
    "mptcp",
    "ioam",
    "help",
    "stats",
)
TC_OBJECTS = ("qdisc", "class", "filter", "chain", "actions", "monitor", "exec", "help")


def _incomplete() -> IprouteExit:
    return IprouteExit('Command line is not complete. Try option "help"', 255)


def _set(opts: GlobalOptions, attr: str, value: str | bool) -> None:
    if attr in ("details", "stats"):
        setattr(opts, attr, getattr(opts, attr) + 1)
    elif hasattr(opts, attr):
        setattr(opts, attr, value)
    else:
        opts.extra[attr] = value


def _option_word(tool: str, arg: str) -> str:
    # ip treats a leading "--x" as "-x"; tc does not (spec/iproute2.md §1.2).
    if tool == "ip" and arg.startswith("--"):
        return arg[1:]
    return arg


def parse_global_options(tool: str, argv: list[str]) -> tuple[GlobalOptions, list[str]]:
    """parse_global_options: consume leading options; return them and the remaining words."""
    table = IP_OPTIONS if tool == "ip" else TC_OPTIONS
    exact = IP_EXACT if tool == "ip" else {}
    opts = GlobalOptions()
    args = list(argv)
    while args and args[0].startswith("-") and args[0] != "-":
        raw = args.pop(0)
        if tool == "ip" and raw == "--":
            break
        word = _option_word(tool, raw)
        if word in exact:
            _set(opts, exact[word], word[1:])
            continue
        # Only the colour option takes "=WHEN" (lib/color.c matches_color).
        word, _, inline = word.partition("=") if word.startswith("-c") else (word, "", "")
        hit = next(((attr, takes) for kw, attr, takes in table if matches(word, kw)), None)
        if hit is None or (inline and hit[0] != "color"):
            raise IprouteExit(f'Option "{raw}" is unknown, try "{tool} -help".', 255)
        attr, takes = hit
        if attr == "color":
            _set(opts, "color", inline or True)
        elif takes:
            if args:
                value = args.pop(0)
            else:
                raise _incomplete()
            _set(opts, attr, value)
        else:
            _set(opts, attr, True)
    return opts, args


def resolve_object(tool: str, word: str) -> str:
    """resolve_object: the first object in table order that `word` is a prefix of."""
    objects = IP_OBJECTS if tool == "ip" else TC_OBJECTS
    hit = next((obj for obj in objects if matches(word, obj)), None)
    if hit is None:
        raise IprouteExit(
            f'Object "{word}" is unknown, try "{tool} help".', 1 if tool == "ip" else 255
        )
    return hit
