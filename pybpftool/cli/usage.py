"""usage: iproute2 6.1's top-level usage texts, byte for byte (ip/ip.c, tc/tc.c usage())."""

IP_USAGE = """\
Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }
       ip [ -force ] -batch filename
where  OBJECT := { address | addrlabel | amt | fou | help | ila | ioam | l2tp |
                   link | macsec | maddress | monitor | mptcp | mroute | mrule |
                   neighbor | neighbour | netconf | netns | nexthop | ntable |
                   ntbl | route | rule | sr | tap | tcpmetrics |
                   token | tunnel | tuntap | vrf | xfrm }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[esolve] |
                    -h[uman-readable] | -iec | -j[son] | -p[retty] |
                    -f[amily] { inet | inet6 | mpls | bridge | link } |
                    -4 | -6 | -M | -B | -0 |
                    -l[oops] { maximum-addr-flush-attempts } | -br[ief] |
                    -o[neline] | -t[imestamp] | -ts[hort] | -b[atch] [filename] |
                    -rc[vbuf] [size] | -n[etns] name | -N[umeric] | -a[ll] |
                    -c[olor]}
"""

TC_USAGE = """\
Usage:\ttc [ OPTIONS ] OBJECT { COMMAND | help }
\ttc [-force] -batch filename
where  OBJECT := { qdisc | class | filter | chain |
\t\t    action | monitor | exec }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[aw] |
\t\t    -o[neline] | -j[son] | -p[retty] | -c[olor]
\t\t    -b[atch] [filename] | -n[etns] name | -N[umeric] |
\t\t     -nm | -nam[es] | { -cf | -conf } path
\t\t     -br[ief] }
"""

# f_bpf.c explain(), verbatim.
BPF_USAGE = """Usage: ... bpf ...

BPF use case:
 bytecode BPF_BYTECODE
 bytecode-file FILE

eBPF use case:
 object-file FILE [ section CLS_NAME ] [ export UDS_FILE ] [ verbose ] [ direct-action ] [ skip_hw | skip_sw ]
 object-pinned FILE [ direct-action ] [ skip_hw | skip_sw ]

Common remaining options:
 [ action ACTION_SPEC ]
 [ classid CLASSID ]

Where BPF_BYTECODE := 's,c t f k,c t f k,c t f k,...'
c,t,f,k and s are decimals; s denotes number of 4-tuples

Where FILE points to a file containing the BPF_BYTECODE string,
an ELF file containing eBPF map definitions and bytecode, or a
pinned eBPF program.

Where CLS_NAME refers to the section name containing the
classifier (default 'classifier').

Where UDS_FILE points to a unix domain socket file in order
to hand off control of all created eBPF maps to an agent.

ACTION_SPEC := ... look at individual actions
NOTE: CLASSID is parsed as hexadecimal input."""

# e_bpf.c explain(), verbatim.
EXEC_BPF_USAGE = """Usage: ... bpf [ import UDS_FILE ] [ run CMD ]
       ... bpf [ debug ]
       ... bpf [ graft MAP_FILE ] [ key KEY ]
          `... [ object-file OBJ_FILE ] [ type TYPE ] [ section NAME ] [ verbose ]
          `... [ object-pinned PROG_FILE ]

Where UDS_FILE provides the name of a unix domain socket file
to import eBPF maps and the optional CMD denotes the command
to be executed (default: "sh").
Where MAP_FILE points to a pinned map and KEY to its index.
Where OBJ_FILE points to an object file and PROG_FILE to a pinned
program. TYPE can be {cls, act}, where "cls" is default.
NAME can be a program section name (default: "classifier")."""

# m_gact.c explain(), verbatim.
GACT_USAGE = """Usage: ... gact <ACTION> [RAND] [INDEX]
Where: \tACTION := reclassify | drop | continue | pass | pipe |
       \t          goto chain <CHAIN_INDEX> | jump <JUMP_COUNT>
\tRAND := random <RANDTYPE> <ACTION> <VAL>
\tRANDTYPE := netrand | determ
\tVAL : = value not exceeding 10000
\tJUMP_COUNT := Absolute jump from start of action list
\tINDEX := index value used
"""
