"""fuzz_fixed: fixed scenarios the fuzzer runs before its random lines, one per behaviour
issue 18 names (each once found to differ from ip/tc 6.1), so that each stays proven in
every run whatever the seed. Lines are shell words; `{xdp}`, `{tc}`, `{graft}`, `{mnt}` and
`{batch}` are filled as for the random lines, a trailing ` #tty` runs the line on a
terminal of its own, and a `batch:` entry gives the text of `{batch}` for the next line.
"""

from __future__ import annotations

import shlex

from differential.fuzz_lines import VAL, Line

FIXED: dict[str, list[str]] = {
    # ip -s (-s -s, -h, -iec, -j, -o) link show, bare `ip link`, list, -j link
    "link-stats": [
        "ip link",
        "ip link list",
        "ip -j link",
        "ip -j -p link",
        "ip -s link show",
        "ip -s -s link show dev v0",
        "ip -j -s link show",
        "ip -j -s -s link show dev v1",
        "ip -h -s -s link",
        "ip -iec -h -s link show v0",
        "ip -o -s -s link",
        "ip -d -s link show dev v0",
    ],
    # -br, -o, -N, -c as ip prints them; colour only on a terminal with -c=auto
    "link-formats": [
        "ip -br link",
        "ip -br -j link",
        "ip -br -s -d link show dev x0",
        "ip -o link",
        "ip -o -d link show dev v0",
        "ip -N link",
        "ip -N -j -d link show dev v0",
        "ip -c link",
        "ip -c -br link",
        "ip -c=never link show dev v0",
        "ip -c=auto link show dev v0",
        "ip -c=auto link show dev v0 #tty",
        "ip -c=auto -br link #tty",
        "ip -c=never link #tty",
        "ip link show dev v0 #tty",
        "ip -c -j link show dev v0",
    ],
    # peers in another namespace: @ifN (equal indexes too), link-netns, link_index/netnsid
    "link-peers": [
        "ip link show dev x0",
        "ip link show dev z0",
        "ip -j link show dev x0",
        "ip -j -p link show dev z0",
        "ip -br link show dev x0",
        "ip -d link show dev z0",
        "ip link show dev v0",
    ],
    # ip link show's selectors and errors
    "link-show-words": [
        "ip link show up",
        "ip link show type veth",
        "ip link show dev v0 type vrf",
        "ip -j link show dev v0 type vrf",
        "ip -j -p link show dev v0 master v1",
        "ip link show nomaster",
        "ip link show group default",
        "ip link show group 0x0",
        "ip link show group x",
        "ip link show label foo",
        "ip link show scope link",
        "ip link show scope bogus",
        "ip link show to 10.0.0.1",
        "ip link show permanent",
        "ip link show if3",
        "ip -j -p link show if3",
        "ip link show dev if99 group 0",
        "ip link show ''",
        "ip link show ' a0'",
        "ip link show abcdefghijklmnopq",
        "ip link show dev",
        "ip link show v0 v1",
        "ip link show master v1",
        "ip link show vrf v1",
        "ip link show help",
        "ip link help",
        "ip link help bogus",
        "ip link bogus",
    ],
    # interface names as ip checks them, before any object is read or folder made
    "link-set-names": [
        "ip link set dev ' a0' xdp obj {xdp} sec xdp",
        "ip link set dev '' xdp obj {xdp} sec xdp",
        "ip link set dev a/b xdp off",
        "ip link set dev abcdefghijklmnopq xdp obj {xdp} sec xdp",
        "ip link set dev abcdefghijklmnop xdp off",
        "ip link set de v0 xdp off",
        "ip link set dev v0",
        "ip link set dev nope",
        "ip link set dev if3",
        "ip link set",
        "ip link set dev v0 help",
        "ip link set dev v0 xdp",
        "ip link set dev '\x1b[31mred' xdp off",
        "ip link show '\x1b[2Jx'",
    ],
    # two xdp keywords on a line: both load, the kernel keeps the last
    "link-set-twice": [
        "ip link set dev v0 xdp obj {xdp} sec xdp xdpgeneric obj {xdp} sec prog",
        "ip link show dev v0",
        "ip -force link set dev v0 xdpgeneric obj {xdp} sec xdp xdpgeneric off",
        "ip link set dev v0 xdp off xdp off",
        "ip link set dev v0 xdpdrv off",
        "ip link set xdpoffload obj {xdp} dev v0",
    ],
    # tc: names as tc reads them (truncated to 15 bytes; `ifN` is index N), before any load
    "tc-names": [
        "tc qdisc add dev v0 clsact",
        "tc filter add dev abcdefghijklmnopq ingress bpf da obj {tc}",
        "tc filter add dev ' a0' ingress bpf da obj {tc}",
        "tc filter add dev '' ingress bpf da obj {tc}",
        "tc filter show dev abcdefghijklmnopq ingress",
        "tc qdisc add dev abcdefghijklmnopq clsact",
        "tc qdisc del dev if3 clsact",
        "tc qdisc add dev if3 clsact",
        "tc qdisc show dev if3",
        "tc chain add dev abcdefghijklmnopq ingress chain 1",
        "tc actions add action mirred egress redirect dev abcdefghijklmnopq",
        "tc filter add dev v0 ingress bpf da obj {tc} action mirred egress redirect dev if2",
    ],
    # tc: numbers per field as tc reads them
    "tc-numbers": [
        "tc qdisc add dev v0 root handle 1: pfifo limit 0x10",
        "tc qdisc show dev v0",
        "tc qdisc replace dev v0 root handle 1: bfifo limit 010",
        "tc qdisc show dev v0",
        "tc qdisc replace dev v0 root handle 1: pfifo limit 08",
        "tc qdisc replace dev v0 root handle 1: pfifo limit -1",
        "tc qdisc replace dev v0 root handle 1: pfifo limit 4294967296",
        "tc qdisc replace dev v0 root handle 2: htb default 0x10 r2q 010",
        "tc -d qdisc show dev v0",
        "tc qdisc replace dev v0 root handle 0x10: pfifo",
        "tc qdisc show dev v0",
        "tc qdisc del dev v0 root",
        "tc qdisc add dev v0 clsact",
        "tc filter add dev v0 ingress pref 0x10 handle 0x10 bpf da obj {tc}",
        "tc filter add dev v0 ingress pref 010 handle 010 bpf da obj {tc}",
        "tc filter show dev v0 ingress",
        "tc filter add dev v0 ingress chain 0x3 bpf da obj {tc}",
        "tc filter show dev v0 ingress chain 3",
    ],
    # tc: kinds cut to 15 bytes (char k[FILTER_NAMESZ]); change without protocol sends none
    "tc-kinds": [
        "tc qdisc add dev v0 clsact",
        "tc filter add dev v0 ingress abcdefghijklmnopqrs",
        "tc filter add dev v0 ingress abcdefghijklmno x",
        "tc qdisc add dev v1 root abcdefghijklmnopqrs",
        "tc qdisc add dev v1 root pfifo_fastXXXXXXXXX",
        "tc filter change dev v0 ingress prio 10 bpf da obj {tc}",
        "tc filter change dev v0 ingress prio 10 protocol all bpf da obj {tc}",
        "tc filter add dev v0 ingress prio 10 bpf da obj {tc}",
        "tc filter change dev v0 ingress prio 10 protocol all bpf da obj {tc} classid 1:2",
        "tc filter show dev v0 ingress",
        "tc filter delete dev v0 ingress prio 10 bpf obj {tc} export /nonexistent/uds",
    ],
    # tc: a pinned program is fetched while the line is read, before the words after it
    "tc-order": [
        "tc qdisc add dev v0 clsact",
        "tc filter add dev v0 ingress bpf pinned /nonexistent flowid zz",
        "tc filter add dev v0 ingress bpf pinned /nonexistent bogus",
        "tc filter add dev v0 ingress bpf da pinned m:globals/nope classid zz",
        "tc filter add dev v0 ingress bpf obj /nonexistent.o flowid zz",
        "tc filter add dev v0 ingress bpf pinned /nonexistent action bogus",
        "tc actions add action bpf pinned /nonexistent bogus",
    ],
    # tc: actions inside filters, through the one action grammar
    "tc-filter-actions": [
        "tc qdisc add dev v0 clsact",
        "tc filter add dev v0 egress pref 1 bpf da obj {tc} action mirred egress redirect dev v1",
        "tc filter show dev v0 egress",
        "tc -j filter show dev v0 egress",
        "tc filter add dev v0 egress pref 2 bpf da obj {tc} action mirred ingress mirror dev v1 "
        "index 7 cookie 0a0b",
        "tc -s filter show dev v0 egress",
        "tc filter add dev v0 egress pref 3 bpf da obj {tc} action gact drop index 5",
        "tc filter add dev v0 egress pref 3 bpf da obj {tc} action trap",
        "tc filter add dev v0 egress pref 3 bpf da obj {tc} action pass cookie 0a0b",
        "tc filter add dev v0 egress pref 3 bpf da obj {tc} action mirred egress redirect "
        "dev v1 action gact pass",
        "tc actions ls action mirred",
    ],
    # tc exec bpf graft: a pin that is not a program array; skip_sw loads for the device
    "tc-graft": [
        "tc qdisc add dev v0 clsact",
        "tc filter add dev v0 ingress bpf da obj {tc}",
        "tc filter add dev v0 egress bpf da obj {graft}",
        "tc exec bpf graft m:globals/twin_counters key 0 obj {graft} sec aaa",
        "tc exec bpf graft m:globals/twin_outer key 0 obj {graft} sec aaa",
        "tc exec bpf graft m:globals/jmp_tc key 0 obj {graft} sec aaa",
        "tc exec bpf graft {mnt}/tc/globals/twin_counters key 0 obj {graft} sec bbb",
        "tc filter add dev v0 ingress bpf da obj {tc} skip_sw",
        "tc filter add dev v0 ingress bpf skip_sw da obj {tc}",
        "tc filter add dev v0 ingress bpf da obj {tc} skip_hw",
    ],
    # global options and the namespace switch
    "globals": [
        "ip -n '' link show",
        "tc -n '' qdisc show",
        "ip -n a/b link",
        "ip vrf identify 999999",
        "ip vrf identify -1",
        "ip vrf identify +1",
        "ip vrf identify 1 2",
        "ip vrf identify",
    ],
    # -batch: `help` ends the batch as ip ends it
    "batch-help": [
        "batch:link show dev v0\nlink help\nlink show dev v1\n",
        "ip -batch {batch}",
        "ip -force -batch {batch}",
        "batch:link show dev v0\nhelp\nlink show dev v1\n",
        "ip -force -batch {batch}",
        "batch:link show dev v0\nlink show help\nlink show dev v1\n",
        "ip -force -batch {batch}",
        "batch:link set dev nope xdp off\nlink show dev v1 # comment 'x\n",
        "ip -force -batch {batch}",
        # ip's failed `vrf exec` child goes on with the batch (deviation vrf-exec-in-batch)
        "batch:vrf exec nope true\nlink show dev v0\nvrf show nope\n",
        "ip -force -batch {batch}",
    ],
}


def fixed_scenarios() -> list[tuple[str, list[Line]]]:
    """fixed_scenarios: (name, lines) of every fixed scenario."""
    out = []
    for name, texts in FIXED.items():
        lines = []
        batch: str | None = None
        for text in texts:
            if text.startswith("batch:"):
                batch = text.removeprefix("batch:")
                continue
            tty = text.endswith(" #tty")
            tool, *words = shlex.split(text.removesuffix(" #tty"))
            lines.append(Line(f"fixed:{name}", tool, [(w, VAL) for w in words], batch, tty=tty))
            batch = None
        out.append((name, lines))
    return out
