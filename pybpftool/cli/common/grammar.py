"""grammar: iproute2's keyword matching and global options, as pure functions.

Mirrors ip/ip.c and tc/tc.c main(): single-dash long options matched by prefix in a fixed
order (so `-b` is -batch, `-n` is -netns, tc's `-c` is -conf), no short-option clusters,
objects matched by prefix in table order (spec/iproute2.md §1.1-§1.2).
"""

from __future__ import annotations

from pybpftool.errors import UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~3 ms of `pyip -V`)

if TYPE_CHECKING:
    from collections.abc import Callable


# The first words of lib/utils.c's helpers that exit() instead of returning: incomplete_command
# (NEXT_ARG), missarg, invarg, duparg, duparg2. Whoever prints one of these ends the process,
# so in -batch the whole batch ends at once (exit 255, no "Command failed", even with -force).
EXITING_HELPER_TEXTS = (
    'Command line is not complete. Try option "help"',
    'Error: argument "',
    'Error: duplicate "',
    'Error: either "',
)


class IprouteExit(UsageError):
    """IprouteExit: an iproute2 message with the exact exit status iproute2 uses for it.

    `fatal` says whether iproute2 exit()s there (True) or returns to its command loop
    (False); in -batch a fatal error ends the batch at once. Left unsaid, the exit()ing
    helpers' wording (EXITING_HELPER_TEXTS) makes it True wherever the message was built,
    and anything else leaves it None: cli/common/boundary.py's ends_batch() decides by the tool.
    """

    def __init__(self, message: str, status: int, fatal: bool | None = None) -> None:
        super().__init__(message)
        self.status = status
        if fatal is None and message.startswith(EXITING_HELPER_TEXTS):
            fatal = True
        self.fatal = fatal


class ShowUsage(IprouteExit):
    """ShowUsage: the tool's usage text on stderr, `times` times, then exit with `status`
    (ip's usage() exits 255 at once; tc prints it and goes on)."""

    def __init__(self, status: int, times: int = 1) -> None:
        super().__init__("", status, fatal=True)
        self.times = times


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


def matches_color(word: str) -> bool:
    """matches_color: lib/color.c matches_color(): `-c[olor][=always|auto|never]`."""
    name, _, when = word.partition("=")
    return matches(name, "-color") and when in ("", "always", "auto", "never")


# read_family(): the names `ip -family` knows (exact).
IP_FAMILIES = ("inet", "inet6", "link", "mpls", "bridge")


def _option_value(tool: str, attr: str, value: str | None) -> str | None:
    """_option_value: what main() does with an option's value (None: there was none)."""
    if value is None:
        if attr == "netns":
            return "(null)"  # NEXT_ARG() lets the NULL after argv's end through
        if tool == "ip":
            raise ShowUsage(255)  # -loops, -family, -batch, -rcvbuf: usage(), exit(-1)
        if attr == "batch":
            raise ShowUsage(0, times=2)  # usage(), then no object: usage() again, return 0
        return None  # tc -cf: conf_file = NULL
    if attr == "family" and value == "help":
        raise ShowUsage(255)
    if attr == "family" and value not in IP_FAMILIES:
        raise IprouteExit(f'Error: argument "{value}" is wrong: invalid protocol family', 255)
    if attr == "rcvbuf" and _unsigned(value) is None:  # get_unsigned(&size, argv[1], 0)
        raise IprouteExit(f"Invalid rcvbuf size '{value}'", 255, fatal=True)
    return value


def _unsigned(text: str) -> int | None:
    from pybpftool.cscan import c_unsigned  # on first use: `-V` does not pay for it

    return c_unsigned(text, 0)


def parse_global_options(
    tool: str, argv: list[str], switch_netns: Callable[[str], None] | None = None
) -> tuple[GlobalOptions, list[str]]:
    """parse_global_options: consume leading options as ip.c / tc.c main() do, in order.

    Returns the options and the remaining words. `-Version` ends the parsing (the caller
    prints the version), `-help` raises ShowUsage, and `-netns NAME` calls `switch_netns`
    at once, as iproute2 switches while parsing: a missing namespace fails before any later
    option, object or argument is looked at.
    """
    table = IP_OPTIONS if tool == "ip" else TC_OPTIONS
    exact = IP_EXACT if tool == "ip" else {}
    opts = GlobalOptions()
    args = list(argv)
    while args and args[0].startswith("-"):
        raw = args.pop(0)
        if tool == "ip" and raw == "--":
            break
        word = _option_word(tool, raw)
        if word in exact:
            _set(opts, exact[word], word[1:])
            continue
        hit = next(
            (
                (attr, takes)
                for kw, attr, takes in table
                if (matches_color(word) if attr == "color" else matches(word, kw))
            ),
            None,
        )
        if hit is None:
            raise IprouteExit(f'Option "{word}" is unknown, try "{tool} -help".', 255)
        attr, takes = hit
        if attr == "version":
            opts.version = True
            return opts, args
        if attr == "help":
            raise ShowUsage(255 if tool == "ip" else 0)
        if attr == "color":
            _set(opts, "color", word.partition("=")[2] or True)
        elif takes:
            value = _option_value(tool, attr, args.pop(0) if args else None)
            if value is not None:
                _set(opts, attr, value)
            if attr == "netns" and switch_netns is not None:
                switch_netns("(null)" if value is None else value)
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
