"""fuzz_grammar: command lines a script author might send to ip/tc 6.1, valid and broken.

A seeded generator (pure: no process, no kernel): each line is built from tokens that know
their role (keyword, device, number, path, value), so a mutation can abbreviate a keyword the
way iproute2's prefix matching allows, misspell it, give a number in hex, octal, overflowing
or negative, repeat a keyword, name a device that is not there, or drop and add words.
Batches (`-batch FILE` with `-force`, comments, quotes, continuation lines and `help`) are
built from the same lines. Placeholders in braces are filled by the runner: `{xdp}`, `{tc}`,
`{graft}` (compiled test objects), `{mnt}` (each side's own bpffs), `{batch}` (the batch file).
"""

from __future__ import annotations

from differential.fuzz_lines import DEV, DEVICES, KW, NUM, NUMBERS, OPT, PATH, VAL, Line, Token, kw
from differential.fuzz_mutate import Mutations


class Grammar(Mutations):
    """Grammar: a seeded random source of command lines, one method per command family."""

    def pick(self, *options: object) -> object:
        return self.choice(options)

    def dev(self) -> list[Token]:
        name = self.choice(DEVICES)
        return [("dev", KW), (name, DEV)] if self.random() < 0.8 else [(name, DEV)]

    # --- ip -----------------------------------------------------------------------------

    def ip_options(self) -> list[Token]:
        choices = [
            [],
            [],
            [],
            ["-s"],
            ["-s", "-s"],
            ["-d"],
            ["-j"],
            ["-j", "-p"],
            ["-br"],
            ["-o"],
            ["-N"],
            ["-c"],
            ["-c=never"],
            ["-c=auto"],
            ["-color=always"],
            ["-j", "-s"],
            ["-d", "-s"],
            ["-h", "-s"],
            ["-iec", "-s", "-s"],
            ["-0"],
            ["-br", "-j"],
            ["-o", "-s"],
            ["-stats"],
            ["-details", "-json"],
            ["-N", "-d"],
        ]
        return [(o, OPT) for o in self.choice(choices)]

    def ip_link_show(self) -> Line:
        verb = self.choice(["show", "show", "list", "lst", "sh", "l", ""])
        toks: list[Token] = kw("link") + (kw(verb) if verb else [])
        if verb and self.random() < 0.7:
            toks += self.dev()
        if verb and self.random() < 0.15:
            toks += self.choice(
                [
                    kw("up"),
                    kw("type", "veth"),
                    kw("nomaster"),
                    kw("help"),
                    [("group", KW), ("0", NUM)],
                    [("master", KW), ("v1", DEV)],
                ]
            )
        return Line("ip-link-show", "ip", self.ip_options() + toks)

    def xdp_spec(self) -> list[Token]:
        r = self.random()
        if r < 0.25:
            return kw(self.choice(["off", "none"]))
        if r < 0.35:
            return [
                (self.choice(["pinned", "object-pinned", "fd"]), KW),
                (
                    self.choice(
                        [
                            "m:globals/nope",
                            "{mnt}/tc/globals/xdp_hits",
                            "/nonexistent",
                            "m:xdp_prog",
                        ]
                    ),
                    PATH,
                ),
            ]
        toks = [(self.choice(["obj", "object-file", "object", "o"]), KW), ("{xdp}", PATH)]
        if self.random() < 0.7:
            toks += [
                (self.choice(["sec", "section", "s"]), KW),
                (self.choice(["xdp", "xdp", "prog", "nosuch"]), VAL),
            ]
        if self.random() < 0.15:
            toks += [("program", KW), (self.choice(["xdp_count", "xdp_default", "nope"]), VAL)]
        if self.random() < 0.2:
            toks += kw(self.choice(["verbose", "verb", "v"]))
        return toks

    def ip_link_set(self) -> Line:
        mode = self.choice(["xdp", "xdp", "xdpgeneric", "xdpdrv", "xdpoffload"])
        toks = kw("link", "set") + self.dev() + [(mode, KW)] + self.xdp_spec()
        if self.random() < 0.1:
            toks = [*kw("link", "set"), (mode, KW), *self.xdp_spec(), *self.dev()]
        if self.random() < 0.08:
            toks += [(self.choice(["xdp", "xdpgeneric"]), KW), *self.xdp_spec()]
        if self.random() < 0.05:
            toks = kw("link", "set") + self.dev()
        opts = [("-force", OPT)] if self.random() < 0.3 else []
        return Line("ip-link-set", "ip", opts + toks)

    def ip_vrf(self) -> Line:
        r = self.random()
        if r < 0.3:
            toks = kw("vrf", self.choice(["show", "list", "lst", "sh"]))
            if self.random() < 0.5:
                toks.append((self.choice(["default", "nope", "v0"]), VAL))
        elif r < 0.55:
            toks = kw("vrf", self.choice(["identify", "id", "i"]))
            if self.random() < 0.8:
                toks.append((self.choice(["1", "999999", "abc", "0", "-1", "4194304"]), NUM))
        elif r < 0.7:
            toks = [*kw("vrf", "pids"), (self.choice(["nope", "v0", "default"]), VAL)]
        elif r < 0.85:
            toks = kw("vrf", "exec") + [
                (w, VAL) for w in self.choice([[], ["nope"], ["nope", "true"], ["v0", "true"]])
            ]
        else:
            toks = kw("vrf", self.choice(["help", "bogus", ""]))
        opts = [(o, OPT) for o in self.choice([[], [], ["-j"], ["-j", "-p"]])]
        return Line("ip-vrf", "ip", opts + [t for t in toks if t[0]])

    def ip_global(self) -> Line:
        toks: list[Token] = self.choice(
            [
                [("-V", OPT)],
                [("-Version", OPT)],
                [("-help", OPT)],
                [("-h", OPT)],
                [("-bogus", OPT)],
                [("-n", OPT), ("", VAL), ("link", KW)],
                [("-n", OPT), ("nosuchns", VAL), ("link", KW)],
                [("-family", OPT), ("link", VAL), ("link", KW), ("show", KW)],
                [("-family", OPT), ("bogus", VAL), ("link", KW)],
                [("-loops", OPT), ("2", NUM), ("link", KW), ("show", KW), ("v0", DEV)],
                [("-rcvbuf", OPT), ("4096", NUM), ("link", KW), ("show", KW), ("lo", DEV)],
                [("-t", OPT), ("link", KW), ("show", KW), ("v0", DEV)],
                [("-r", OPT), ("link", KW)],
                [("-a", OPT), ("link", KW)],
                [("-echo", OPT), ("link", KW), ("show", KW)],
                [("--json", OPT), ("link", KW), ("show", KW), ("v0", DEV)],
                [("--", OPT), ("link", KW)],
                [("bogus", KW)],
                [("help", KW)],
                [("li", KW)],
                [("l", KW)],
                [("link", KW), ("help", KW)],
                [("link", KW), ("bogus", KW)],
                [("link", KW), ("help", KW), ("veth", VAL)],
                [("link", KW), ("show", KW), ("help", KW)],
                [("address", KW)],
                [("route", KW)],
                [("netns", KW)],
            ]
        )
        return Line("ip-global", "ip", list(toks))

    # --- tc -----------------------------------------------------------------------------

    def tc_options(self) -> list[Token]:
        choices = [
            [],
            [],
            [],
            ["-s"],
            ["-d"],
            ["-j"],
            ["-j", "-p"],
            ["-r"],
            ["-o"],
            ["-N"],
            ["-nm"],
            ["-br"],
            ["-iec"],
            ["-s", "-d"],
            ["-j", "-s"],
            ["-c=never"],
            ["-color"],
            ["-t"],
            ["-ts"],
            ["-statistics"],
            ["-details", "-json"],
        ]
        return [(o, OPT) for o in self.choice(choices)]

    def qdisc_kind(self) -> list[Token]:
        handle = [("handle", KW), (self.choice(["1:", "2:", "0x10:", "ffff:", "1", "zz"]), VAL)]
        r = self.random()
        if r < 0.35:
            return kw(self.choice(["clsact", "ingress"]))
        kind = self.choice(
            [
                "pfifo",
                "bfifo",
                "pfifo_fast",
                "htb",
                "noqueue",
                "mq",
                "pfifo_head_drop",
                "fq_codel",
                "sfq",
                "bogus",
            ]
        )
        toks = kw("root") + (handle if self.random() < 0.8 else []) + kw(kind)
        if kind in ("pfifo", "bfifo", "pfifo_head_drop") and self.random() < 0.7:
            toks += [("limit", KW), (self.choice([*NUMBERS, "10kb", "1mbit", "3k"]), NUM)]
        if kind == "htb" and self.random() < 0.7:
            toks += self.choice(
                [
                    [("default", KW), (self.choice(NUMBERS), NUM)],
                    [("r2q", KW), (self.choice(NUMBERS), NUM)],
                    [("direct_qlen", KW), (self.choice(NUMBERS), NUM)],
                ]
            )
        return toks

    def tc_qdisc(self) -> Line:
        verb = self.choice(
            ["add", "add", "del", "replace", "change", "show", "ls", "list", "delete", "link"]
        )
        if verb in ("show", "ls", "list"):
            toks = kw("qdisc", verb)
            if self.random() < 0.6:
                toks += self.dev()
            if self.random() < 0.3:
                toks += self.choice(
                    [
                        kw("root"),
                        kw("ingress"),
                        kw("clsact"),
                        [("handle", KW), ("1:", VAL)],
                        kw("invisible"),
                    ]
                )
            return Line("tc-qdisc", "tc", self.tc_options() + toks)
        return Line("tc-qdisc", "tc", kw("qdisc", verb) + self.dev() + self.qdisc_kind())

    def bpf_mode(self, obj: str = "{tc}", sections: tuple[str, ...] = ()) -> list[Token]:
        r = self.random()
        if r < 0.12:
            return [
                (self.choice(["bytecode", "bc"]), KW),
                (
                    self.choice(
                        [
                            "1,6 0 0 4294967295",
                            "2,6 0 0 1,6 0 0 0",
                            "1,6 0 0 0",
                            "0,6 0 0 1",
                            "1 6 0 0 1",
                            "2,6 0 0 1",
                        ]
                    ),
                    VAL,
                ),
            ]
        if r < 0.2:
            return [
                (self.choice(["pinned", "fd", "object-pinned"]), KW),
                (
                    self.choice(
                        [
                            "m:globals/nope",
                            "{mnt}/tc/globals/twin_counters",
                            "/nonexistent",
                            "m:globals/jmp_tc",
                        ]
                    ),
                    PATH,
                ),
            ]
        toks = [(self.choice(["obj", "object-file", "object", "o"]), KW), (obj, PATH)]
        if self.random() < 0.7:
            toks += [
                (self.choice(["sec", "section", "s"]), KW),
                (self.choice(sections or ("classifier", "tail", "nosuch")), VAL),
            ]
        if self.random() < 0.1:
            toks += [("program", KW), (self.choice(["cls_main", "nope"]), VAL)]
        if self.random() < 0.05:
            toks += [("export", KW), ("/nonexistent/uds", PATH)]
        if self.random() < 0.15:
            toks += kw(self.choice(["verbose", "verb"]))
        return toks

    def actions_spec(self) -> list[Token]:
        return self.choice(
            [
                [*kw("action", "mirred", "egress", "redirect", "dev"), ("v1", DEV)],
                [*kw("action", "mirred", "egress", "mirror", "dev"), ("v1", DEV)],
                [
                    *kw("action", "mirred", "ingress", "redirect", "dev"),
                    ("v1", DEV),
                    ("index", KW),
                    ("5", NUM),
                ],
                kw("action", "gact", "drop"),
                kw("action", "drop"),
                kw("action", "pass"),
                [*kw("action", "gact", "pass", "index"), ("5", NUM)],
                kw("action", "gact", "trap"),
                [*kw("action", "pass", "cookie"), ("0a0b", VAL)],
                [*kw("action", "bpf", "obj"), ("{tc}", PATH), ("sec", KW), ("tail", VAL)],
                kw("action", "foo"),
                kw("action", "mirred", "egress", "foo"),
            ]
        )

    def tc_filter(self) -> Line:
        verb = self.choice(
            ["add", "add", "add", "replace", "change", "del", "delete", "show", "ls", "get"]
        )
        toks = kw("filter", verb) + self.dev()
        if self.random() < 0.9:
            toks += self.choice(
                [
                    kw("ingress"),
                    kw("egress"),
                    kw("ingress"),
                    [("parent", KW), ("ffff:fff2", VAL)],
                    kw("root"),
                ]
            )
        for key, values in (
            ("pref", ("10", "20", "49152", "0x10", "99999")),
            ("handle", ("1", "7", "0x10", "010", "zz")),
            ("protocol", ("all", "ip", "ipv6", "foo", "0x800")),
            ("chain", ("0", "3", "x")),
        ):
            if self.random() < (0.6 if verb in ("get", "del", "delete") else 0.25):
                toks += [
                    (self.choice([key, "prio"] if key == "pref" else [key]), KW),
                    (self.choice(values), NUM),
                ]
        if verb in ("show", "ls") and self.random() < 0.6:
            return Line("tc-filter", "tc", self.tc_options() + toks)
        if self.random() < 0.95:
            toks += kw("bpf")
            opts = [
                kw(self.choice(["da", "direct-action"])),
                kw("skip_sw"),
                kw("skip_hw"),
                [("flowid", KW), (self.choice(["1:2", "1:", "zz"]), VAL)],
                [("classid", KW), ("1:1", VAL)],
            ]
            before = self.choice([[], [], *opts[:1]])
            after = self.sample(opts, k=self.choice([0, 1, 1, 2]))
            toks += before + self.bpf_mode() + [t for group in after for t in group]
            if self.random() < 0.15:
                toks += self.actions_spec()
        return Line("tc-filter", "tc", toks)

    def tc_actions(self) -> Line:
        verb = self.choice(
            ["add", "add", "replace", "change", "get", "del", "delete", "ls", "list", "flush"]
        )
        if verb in ("ls", "list", "flush"):
            toks = kw("actions", verb, "action", self.choice(["mirred", "gact", "bpf", "foo"]))
            return Line("tc-actions", "tc", self.tc_options() + toks)
        if verb in ("get", "del", "delete"):
            toks = kw("actions", verb, "action", self.choice(["mirred", "gact"]))
            toks += [("index", KW), (self.choice(["1", "5", "0x5", "x", "4294967296"]), NUM)]
            return Line("tc-actions", "tc", self.tc_options() + toks)
        toks = kw("actions", verb) + self.actions_spec()
        if self.random() < 0.3:
            toks += [("index", KW), (self.choice(["3", "0x3", "-1", "99999999999"]), NUM)]
        return Line("tc-actions", "tc", toks)

    def tc_chain(self) -> Line:
        verb = self.choice(["add", "del", "delete", "show", "get", "ls"])
        toks = kw("chain", verb) + self.dev()
        toks += self.choice([kw("ingress"), kw("egress"), []])
        if self.random() < 0.8:
            toks += [("chain", KW), (self.choice(["5", "0x5", "4294967295", "x", "3"]), NUM)]
        if verb == "add" and self.random() < 0.2:
            toks += kw("bpf", "da") + self.bpf_mode()
        return Line("tc-chain", "tc", self.tc_options() + toks)

    def tc_exec(self) -> Line:
        r = self.random()
        if r < 0.6:
            target = self.choice(
                [
                    "m:globals/jmp_tc",
                    "m:globals/jmp_tc",
                    "m:globals/nope",
                    "m:globals/twin_counters",
                    "{mnt}/tc/globals/jmp_tc",
                ]
            )
            toks = [*kw("exec", "bpf", "graft"), (target, PATH)]
            if self.random() < 0.7:
                toks += [
                    ("key", KW),
                    (self.choice(["0", "0x0", "1", "5", "-1", "x", "4294967296"]), NUM),
                ]
            if self.random() < 0.15:
                toks += [("type", KW), (self.choice(["cls", "act", "xdp", "bogus"]), VAL)]
            toks += self.bpf_mode("{graft}", ("aaa", "bbb", "zzz"))
        elif r < 0.8:
            toks = kw("exec", "bpf") + self.choice(
                [
                    [],
                    kw("dbg"),
                    kw("help"),
                    kw("bogus"),
                    kw("import"),
                    [("import", KW), ("/nonexistent/uds", PATH)],
                    kw("run"),
                    kw("graft"),
                ]
            )
        else:
            toks = kw("exec") + self.choice([[], kw("help"), kw("foo"), kw("bpf", "help")])
        return Line("tc-exec", "tc", toks)

    def tc_global(self) -> Line:
        toks: list[Token] = self.choice(
            [
                [("-V", OPT)],
                [("-help", OPT)],
                [("-bogus", OPT)],
                [("--json", OPT)],
                [("-n", OPT), ("", VAL), ("qdisc", KW)],
                [("-batch", OPT)],
                [("-cf", OPT)],
                [("-c", OPT), ("/nonexistent", PATH), ("qdisc", KW)],
                [("bogus", KW)],
                [("help", KW)],
                [("q", KW)],
                [("f", KW), ("show", KW)],
                [("class", KW)],
                [("monitor", KW), ("bogus", KW)],
                [("a", KW)],
                [("ch", KW)],
            ]
        )
        return Line("tc-global", "tc", list(toks))


# Categories with their weights and makers: a scenario draws its lines from one of them.
CATEGORIES: dict[str, tuple[float, str]] = {
    "ip-link-show": (1.0, "ip_link_show"),
    "ip-link-set": (1.5, "ip_link_set"),
    "ip-vrf": (0.5, "ip_vrf"),
    "ip-global": (0.5, "ip_global"),
    "tc-qdisc": (1.0, "tc_qdisc"),
    "tc-filter": (2.0, "tc_filter"),
    "tc-actions": (0.8, "tc_actions"),
    "tc-chain": (0.6, "tc_chain"),
    "tc-exec": (0.8, "tc_exec"),
    "tc-global": (0.4, "tc_global"),
    "batch": (0.6, "batch"),
}

# What a scenario of a category sets up first (run through both sides and compared too).
PRELUDES: dict[str, list[str]] = {
    "tc-filter": ["tc qdisc add dev v0 clsact"],
    "tc-chain": ["tc qdisc add dev v0 clsact"],
    "tc-exec": [
        "tc qdisc add dev v0 clsact",
        "tc filter add dev v0 ingress bpf da obj {graft} sec classifier",
        "tc filter add dev v0 egress bpf da obj {tc} sec classifier",
    ],
    "ip-link-show": ["ip link set dev v0 xdp obj {xdp} sec xdp"],
}


def scenario(
    rng: Grammar, only: list[str] | None = None, mutation_rate: float = 0.45
) -> tuple[str, list[Line]]:
    """scenario: a category (of `only`, if given) and a few of its lines (some mutated), to
    run from a clean state, after that category's prelude."""
    names = [n for n in CATEGORIES if not only or n in only]
    weights = [CATEGORIES[n][0] for n in names]
    category = rng.choices(names, weights)[0]
    maker = getattr(rng, CATEGORIES[category][1])
    lines = []
    for _ in range(rng.randint(3, 8)):
        line = maker()
        if category != "batch" and rng.random() < mutation_rate:
            line = rng.mutate(line)
        lines.append(line)
    return category, lines


def prelude_lines(category: str) -> list[Line]:
    return [
        Line("prelude", text.split()[0], [(w, VAL) for w in text.split()[1:]])
        for text in PRELUDES.get(category, [])
    ]
