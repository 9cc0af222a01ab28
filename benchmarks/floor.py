"""floor: the least a Python program does for the jobs bench_speed times, standard library only.

Three subcommands, each the same job as a pybpftool command line and checked by bench_speed
to give the same result (same program tag attached, same output byte for byte):
  floor.py replace NETNS DEV OBJ SEC     `pytc -n NETNS filter replace dev DEV ingress pref 1
                                          handle 1 bpf da obj OBJ sec SEC`: parses the ELF
                                          object, loads its BTF, creates its BTF maps, fixes up
                                          the map references, loads the section's program with
                                          its func and line info, replaces the filter by
                                          raw netlink;
  floor.py filter-show NETNS DEV         `pytc -n NETNS filter show dev DEV ingress` (cls_bpf
                                          filters, with the program's name, tag and jited from
                                          bpf(2) as tc prints them);
  floor.py link-show NETNS               `pyip -n NETNS link show` (ethernet, veth and loopback
                                          links, XDP programs).
It handles what the benchmark's objects and links contain (one program per section, no
subprograms, no pins, no CO-RE), not everything pybpftool does: it is the floor a Python
start-up, the same system calls and the same parsing cost, which the targets are ratios to.
Run it as root, as the benchmark does: python benchmarks/floor.py replace ns v0 x.o tc
"""

import ctypes
import os
import socket
import struct
import sys

LIBC = ctypes.CDLL(None, use_errno=True)
NR_BPF = 321  # x86_64
CLONE_NEWNET = 0x40000000

# linux/bpf.h commands and types
BPF_MAP_CREATE, BPF_PROG_LOAD, BPF_PROG_GET_FD_BY_ID, BPF_OBJ_GET_INFO_BY_FD, BPF_BTF_LOAD = (
    0,
    5,
    13,
    15,
    18,
)
BPF_PROG_TYPE_SCHED_CLS = 3
BPF_PSEUDO_MAP_FD = 1

# linux/netlink.h, linux/rtnetlink.h, linux/pkt_sched.h, linux/pkt_cls.h
NLM_F_REQUEST, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP = 0x1, 0x4, 0x400, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_GETLINK, RTM_NEWTFILTER, RTM_GETTFILTER = 18, 44, 46
TC_H_INGRESS_PARENT = 0xFFFFFFF2  # TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)
ETH_P_ALL = 0x0003
TCA_KIND, TCA_OPTIONS, TCA_CHAIN = 1, 2, 11
TCA_BPF_FD, TCA_BPF_NAME, TCA_BPF_FLAGS, TCA_BPF_FLAGS_GEN, TCA_BPF_ID = 6, 7, 8, 9, 11
TCA_BPF_FLAG_ACT_DIRECT = 1
NLA_F_NESTED = 0x8000


def bpf(cmd: int, attr: bytes) -> tuple[int, ctypes.Array[ctypes.c_char]]:
    """bpf: one bpf(2) call; the result and the attribute buffer (the kernel writes back)."""
    buf = ctypes.create_string_buffer(attr, len(attr))
    ret = LIBC.syscall(NR_BPF, cmd, buf, len(attr))
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"bpf cmd {cmd}: {os.strerror(err)}")
    return ret, buf


def enter_netns(name: str) -> None:
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    if LIBC.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), f"setns {name}")
    os.close(fd)


# --- ELF ----------------------------------------------------------------------------------


class Elf:
    """Elf: section headers by name and the symbol table of a little-endian ELF64 object."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shnum, shstrndx = struct.unpack_from("<HH", data, 0x3C)
        headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + 64 * i) for i in range(shnum)]
        names = headers[shstrndx]
        self.sections = []
        for h in headers:
            name = data[names[4] + h[0] : data.index(b"\0", names[4] + h[0])].decode()
            self.sections.append((name, h))
        self.index = {name: i for i, (name, _) in enumerate(self.sections)}
        symtab = next(h for _, h in self.sections if h[1] == 2)  # SHT_SYMTAB
        strtab = self.sections[symtab[6]][1][4]
        self.symbols = []
        for off in range(symtab[4], symtab[4] + symtab[5], 24):
            st_name, _info, _other, shndx, value, _size = struct.unpack_from("<IBBHQQ", data, off)
            end = data.index(b"\0", strtab + st_name)
            self.symbols.append((data[strtab + st_name : end].decode(), shndx, value))

    def body(self, name: str) -> bytes:
        h = self.sections[self.index[name]][1]
        return self.data[h[4] : h[4] + h[5]]


# --- BTF ----------------------------------------------------------------------------------

# Bytes that follow the 12-byte common header, by kind (linux/btf.h).
_EXTRA = {1: 4, 3: 12, 14: 4, 17: 4}
_PER_MEMBER = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}


class Btf:
    """Btf: the object's .BTF, its types by id, with the .maps DATASEC fixed up as libbpf
    does (section size, variable offsets from the symbols) so that the kernel takes it."""

    def __init__(self, raw: bytes, elf: Elf) -> None:
        self.raw = bytearray(raw)
        hdr_len, type_off, type_len, str_off = struct.unpack_from("<IIII", raw, 4)
        self.strings = hdr_len + str_off
        self.types: list[tuple[int, int, int, int, int]] = [(0, 0, 0, 0, 0)]  # name, kind,
        pos, end = hdr_len + type_off, hdr_len + type_off + type_len  # vlen, size/type, at
        while pos < end:
            name_off, info, size_type = struct.unpack_from("<III", raw, pos)
            kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
            self.types.append((name_off, kind, vlen, size_type, pos))
            pos += 12 + _EXTRA.get(kind, 0) + _PER_MEMBER.get(kind, 0) * vlen
        for tid, (name_off, kind, vlen, _, at) in enumerate(self.types):
            if kind == 15:  # DATASEC: clang leaves its size and offsets for the loader
                section = self.name(name_off)
                shndx = elf.index[section]
                offsets = {name: value for name, ndx, value in elf.symbols if ndx == shndx}
                struct.pack_into("<I", self.raw, at + 8, len(elf.body(section)))
                for i in range(vlen):
                    var = struct.unpack_from("<I", self.raw, at + 12 + 12 * i)[0]
                    offset = offsets[self.name(self.types[var][0])]
                    struct.pack_into("<I", self.raw, at + 12 + 12 * i + 4, offset)
                if section == ".maps":
                    self.maps_datasec = tid

    def name(self, off: int) -> str:
        start = self.strings + off
        return self.raw[start : self.raw.index(b"\0", start)].decode()

    def resolve(self, tid: int) -> int:
        """resolve: past typedefs and qualifiers (TYPEDEF, VOLATILE, CONST, RESTRICT)."""
        while self.types[tid][1] in (8, 9, 10, 11, 18):
            tid = self.types[tid][3]
        return tid

    def size(self, tid: int) -> int:
        _, kind, _, size_type, at = self.types[self.resolve(tid)]
        if kind == 2:
            return 8
        if kind == 3:
            elem, _, nelems = struct.unpack_from("<III", self.raw, at + 12)
            return self.size(elem) * nelems
        return size_type

    def map_defs(self) -> list[tuple[str, dict[str, int]]]:
        """map_defs: (name, fields) of each .maps variable: __uint fields by their array's
        length, __type fields as (type id, size)."""
        _, _, vlen, _, at = self.types[self.maps_datasec]
        out = []
        for i in range(vlen):
            var = struct.unpack_from("<I", self.raw, at + 12 + 12 * i)[0]
            name_off, _, _, struct_id, _ = self.types[var]
            _, _, members, _, sat = self.types[self.resolve(struct_id)]
            fields = {}
            for m in range(members):
                m_name, m_type, _ = struct.unpack_from("<III", self.raw, sat + 12 + 12 * m)
                pointee = self.types[self.resolve(m_type)][3]
                target = self.types[self.resolve(pointee)]
                key = self.name(m_name)
                if target[1] == 3:  # __uint(name, N): a pointer to int[N]
                    fields[key] = struct.unpack_from("<I", self.raw, target[4] + 20)[0]
                else:  # __type(name, T): a pointer to T
                    fields[key + "_type_id"] = pointee
                    fields[key + "_size"] = self.size(pointee)
            out.append((self.name(name_off), fields))
        return out


def ext_records(ext: bytes, btf: Btf, section: str, which: int) -> tuple[int, bytes, int]:
    """ext_records: (record size, records, count) of .BTF.ext's func (0) or line (1) info
    for `section`, instruction offsets turned from bytes into instructions."""
    hdr_len = struct.unpack_from("<I", ext, 4)[0]
    off, length = struct.unpack_from("<II", ext, 8 + 8 * which)
    pos, end = hdr_len + off, hdr_len + off + length
    rec_size = struct.unpack_from("<I", ext, pos)[0]
    pos += 4
    while pos < end:
        name_off, count = struct.unpack_from("<II", ext, pos)
        pos += 8
        if btf.name(name_off) == section:
            records = bytearray(ext[pos : pos + rec_size * count])
            for r in range(count):
                insn_off = struct.unpack_from("<I", records, r * rec_size)[0]
                struct.pack_into("<I", records, r * rec_size, insn_off // 8)
            return rec_size, bytes(records), count
        pos += rec_size * count
    return rec_size, b"", 0


# --- load ---------------------------------------------------------------------------------


def load(path: str, section: str) -> tuple[int, str]:
    """load: the program of `section` loaded with its maps; (fd, tc's filter name)."""
    with open(path, "rb") as f:
        elf = Elf(f.read())
    btf = Btf(elf.body(".BTF"), elf)
    blob = ctypes.create_string_buffer(bytes(btf.raw), len(btf.raw))
    btf_fd, _ = bpf(
        BPF_BTF_LOAD, struct.pack("<QQIII", ctypes.addressof(blob), 0, len(btf.raw), 0, 0)
    )
    maps = {}
    for name, fields in btf.map_defs():
        request = struct.pack(
            "<IIIIIII16sIIII",
            fields["type"],
            fields.get("key_size", 0),  # __uint(key_size, N) or the size of __type(key, T)
            fields.get("value_size", 0),
            fields["max_entries"],
            fields.get("map_flags", 0),
            0,
            0,
            name[:15].encode(),
            0,
            btf_fd,
            fields.get("key_type_id", 0),
            fields.get("value_type_id", 0),
        )
        maps[name], _ = bpf(BPF_MAP_CREATE, request)
    insns = bytearray(elf.body(section))
    rel = elf.sections[elf.index[".rel" + section]][1]
    for off in range(rel[4], rel[4] + rel[5], 16):
        r_offset, r_info = struct.unpack_from("<QQ", elf.data, off)
        symbol = elf.symbols[r_info >> 32][0]
        insns[r_offset + 1] = (insns[r_offset + 1] & 0x0F) | (BPF_PSEUDO_MAP_FD << 4)
        struct.pack_into("<i", insns, r_offset + 4, maps[symbol])
    shndx = elf.index[section]
    prog_name = next(
        name for name, sym_shndx, value in elf.symbols if sym_shndx == shndx and value == 0
        and name and name != section
    )
    ext = elf.body(".BTF.ext")
    f_size, f_recs, f_cnt = ext_records(ext, btf, section, 0)
    l_size, l_recs, l_cnt = ext_records(ext, btf, section, 1)
    keep = [
        ctypes.create_string_buffer(bytes(insns), len(insns)),
        ctypes.create_string_buffer(elf.body("license").rstrip(b"\0") + b"\0"),
        ctypes.create_string_buffer(f_recs, len(f_recs) or 1),
        ctypes.create_string_buffer(l_recs, len(l_recs) or 1),
    ]
    request = struct.pack(
        "<IIQQIIQII16sIIIIQIIQI",
        BPF_PROG_TYPE_SCHED_CLS,
        len(insns) // 8,
        ctypes.addressof(keep[0]),
        ctypes.addressof(keep[1]),
        0,
        0,
        0,
        0,
        0,
        prog_name[:15].encode(),
        0,
        0,
        btf_fd,
        f_size,
        ctypes.addressof(keep[2]),
        f_cnt,
        l_size,
        ctypes.addressof(keep[3]),
        l_cnt,
    )
    fd, _ = bpf(BPF_PROG_LOAD, request)
    return fd, f"{os.path.basename(path)}:[{section}]"


# --- netlink ------------------------------------------------------------------------------


def attr(kind: int, payload: bytes) -> bytes:
    """attr: one netlink attribute, padded to 4 bytes."""
    length = 4 + len(payload)
    return struct.pack("<HH", length, kind) + payload + b"\0" * (-length % 4)


def talk(sock: socket.socket, msg_type: int, flags: int, body: bytes) -> list[bytes]:
    """talk: send one request; the bodies of its replies, until the ack or the dump's end."""
    sock.send(struct.pack("<IHHII", 16 + len(body), msg_type, flags, 1, 0) + body)
    replies = []
    while True:
        data = sock.recv(65536)
        pos = 0
        while pos < len(data):
            length, kind, _, _, _ = struct.unpack_from("<IHHII", data, pos)
            if kind == NLMSG_ERROR:
                err = struct.unpack_from("<i", data, pos + 16)[0]
                if err:
                    raise OSError(-err, os.strerror(-err))
                return replies
            if kind == NLMSG_DONE:
                return replies
            replies.append(data[pos + 16 : pos + length])
            pos += (length + 3) & ~3


def attrs(data: bytes, pos: int) -> dict[int, bytes]:
    out = {}
    while pos + 4 <= len(data):
        length, kind = struct.unpack_from("<HH", data, pos)
        if length < 4:
            break
        out[kind & ~NLA_F_NESTED] = data[pos + 4 : pos + length]
        pos += (length + 3) & ~3
    return out


def route_socket() -> socket.socket:
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    sock.bind((0, 0))
    return sock


def replace(netns: str, dev: str, obj: str, section: str) -> None:
    enter_netns(netns)
    fd, name = load(obj, section)
    index = socket.if_nametoindex(dev)
    info = (1 << 16) | socket.htons(ETH_P_ALL)
    tcm = struct.pack("<BxxxiIII", 0, index, 1, TC_H_INGRESS_PARENT, info)
    options = (
        attr(TCA_BPF_FD, struct.pack("<I", fd))
        + attr(TCA_BPF_NAME, name.encode() + b"\0")
        + attr(TCA_BPF_FLAGS, struct.pack("<I", TCA_BPF_FLAG_ACT_DIRECT))
    )
    body = tcm + attr(TCA_KIND, b"bpf\0") + attr(TCA_OPTIONS | NLA_F_NESTED, options)
    flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | 0x100  # NLM_F_REPLACE
    talk(route_socket(), RTM_NEWTFILTER, flags, body)


# --- show ---------------------------------------------------------------------------------


def prog_info(prog_id: int) -> str:
    """prog_info: what tc and ip print after a program's id: name, tag, jited."""
    fd, _ = bpf(BPF_PROG_GET_FD_BY_ID, struct.pack("<IIII", prog_id, 0, 0, 0))
    info = ctypes.create_string_buffer(80)
    bpf(BPF_OBJ_GET_INFO_BY_FD, struct.pack("<IIQ", fd, 80, ctypes.addressof(info)))
    os.close(fd)
    jited_len = struct.unpack_from("<I", info, 16)[0]
    name = info.raw[64:80].split(b"\0", 1)[0].decode()
    out = f"name {name} " if name else ""
    out += f"tag {info.raw[8:16].hex()} "
    return out + ("jited " if jited_len else "")


PROTOCOLS = {ETH_P_ALL: "all", 0x0800: "ip", 0x86DD: "ipv6", 0x0806: "arp"}


def filter_show(netns: str, dev: str) -> None:
    enter_netns(netns)
    index = socket.if_nametoindex(dev)
    tcm = struct.pack("<BxxxiIII", 0, index, 0, TC_H_INGRESS_PARENT, 0)
    lines = []
    for msg in talk(route_socket(), RTM_GETTFILTER, NLM_F_REQUEST | NLM_F_DUMP, tcm):
        _, handle, _, info = struct.unpack_from("<iIII", msg, 4)
        a = attrs(msg, 20)
        proto = socket.ntohs(info & 0xFFFF)
        line = f"filter protocol {PROTOCOLS.get(proto, hex(proto))} pref {info >> 16} "
        line += a[TCA_KIND].rstrip(b"\0").decode() + " "
        if TCA_CHAIN in a:
            line += f"chain {struct.unpack('<I', a[TCA_CHAIN])[0]} "
        if TCA_OPTIONS in a:
            line += bpf_options(handle, attrs(a[TCA_OPTIONS], 0))
        lines.append(line + "\n")
    sys.stdout.write("".join(lines))


def bpf_options(handle: int, o: dict[int, bytes]) -> str:
    out = f"handle 0x{handle:x} " if handle else ""
    if TCA_BPF_NAME in o:
        out += o[TCA_BPF_NAME].rstrip(b"\0").decode() + " "
    if TCA_BPF_FLAGS in o and struct.unpack("<I", o[TCA_BPF_FLAGS])[0] & TCA_BPF_FLAG_ACT_DIRECT:
        out += "direct-action "
    if TCA_BPF_FLAGS_GEN in o:
        gen = struct.unpack("<I", o[TCA_BPF_FLAGS_GEN])[0]
        out += "skip_hw " if gen & 1 else ""
        out += "skip_sw " if gen & 2 else ""
        out += "in_hw " if gen & 4 else "not_in_hw " if gen & 8 else ""
    if TCA_BPF_ID in o:
        prog_id = struct.unpack("<I", o[TCA_BPF_ID])[0]
        out += f"id {prog_id} " + prog_info(prog_id)
    return out


# linux/if.h flags in iproute2's print order (print_link_flags), and the names it uses.
IFF = [
    ("LOOPBACK", 0x8), ("BROADCAST", 0x2), ("POINTOPOINT", 0x10), ("MULTICAST", 0x1000),
    ("NOARP", 0x80), ("ALLMULTI", 0x200), ("PROMISC", 0x100), ("NOTRAILERS", 0x20),
    ("MASTER", 0x400), ("SLAVE", 0x800), ("DEBUG", 0x4), ("DYNAMIC", 0x8000),
    ("AUTOMEDIA", 0x4000), ("PORTSEL", 0x2000), ("UP", 0x1), ("LOWER_UP", 0x10000),
    ("DORMANT", 0x20000), ("ECHO", 0x40000),
]  # fmt: skip
OPERSTATES = ["UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"]
LINK_TYPES = {1: "ether", 772: "loopback", 65534: "none"}
XDP_MODES = {1: "xdp", 2: "xdpgeneric", 3: "xdpoffload", 4: "xdpmulti"}
# linux/if_link.h IFLA_*
IFLA_ADDRESS, IFLA_BROADCAST, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_QDISC = 1, 2, 3, 4, 5, 6
IFLA_MASTER, IFLA_TXQLEN, IFLA_OPERSTATE, IFLA_LINKMODE, IFLA_GROUP = 10, 13, 16, 17, 27
IFLA_EXT_MASK, IFLA_XDP, IFLA_LINK_NETNSID = 29, 43, 37
IFLA_XDP_ATTACHED, IFLA_XDP_PROG_ID = 2, 4


def link_show(netns: str) -> None:
    enter_netns(netns)
    body = struct.pack("<BxHiII", 0, 0, 0, 0, 0) + attr(IFLA_EXT_MASK, struct.pack("<I", 1))
    msgs = talk(route_socket(), RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, body)
    names = {}
    links = []
    for msg in msgs:
        _, ltype, index, flags, _ = struct.unpack_from("<BxHiII", msg, 0)
        a = attrs(msg, 16)
        names[index] = a[IFLA_IFNAME].rstrip(b"\0").decode()
        links.append((ltype, index, flags, a))
    out = []
    for ltype, index, flags, a in links:
        out.append(link_lines(ltype, index, flags, a, names))
    sys.stdout.write("".join(out))


def u32(a: dict[int, bytes], key: int) -> int:
    return struct.unpack("<I", a[key][:4])[0]


def link_lines(ltype: int, index: int, flags: int, a: dict[int, bytes], names: dict) -> str:
    name = names[index]
    if IFLA_LINK in a and u32(a, IFLA_LINK) != index:
        peer = u32(a, IFLA_LINK)
        name += f"@if{peer}" if IFLA_LINK_NETNSID in a or peer not in names else f"@{names[peer]}"
    shown, rest = [], flags & ~0x40  # IFF_RUNNING is not shown
    if flags & 0x1 and not flags & 0x40:
        shown.append("NO-CARRIER")
    for flag_name, bit in IFF:
        if rest & bit:
            shown.append(flag_name)
            rest &= ~bit
    if rest:
        shown.append(f"{rest:x}")
    line = f"{index}: {name}: <{','.join(shown)}> mtu {u32(a, IFLA_MTU)} "
    xdp = attrs(a[IFLA_XDP], 0) if IFLA_XDP in a else {}
    mode = xdp.get(IFLA_XDP_ATTACHED, b"\0")[0]
    if mode:
        line += XDP_MODES[mode] + " "
    if IFLA_QDISC in a:
        line += "qdisc " + a[IFLA_QDISC].rstrip(b"\0").decode() + " "
    if IFLA_MASTER in a:
        line += f"master {names.get(u32(a, IFLA_MASTER))} "
    line += f"state {OPERSTATES[a[IFLA_OPERSTATE][0]]} "
    line += f"mode {['DEFAULT', 'DORMANT', 'TESTING'][a[IFLA_LINKMODE][0]]} "
    group = u32(a, IFLA_GROUP)
    line += f"group {'default' if group == 0 else group} qlen {u32(a, IFLA_TXQLEN)}"
    line += f"\n    link/{LINK_TYPES.get(ltype, str(ltype))} "
    if IFLA_ADDRESS in a:
        line += ":".join(f"{b:02x}" for b in a[IFLA_ADDRESS])
        line += " brd " + ":".join(f"{b:02x}" for b in a[IFLA_BROADCAST])
    if IFLA_LINK_NETNSID in a:
        line += f" link-netnsid {struct.unpack('<i', a[IFLA_LINK_NETNSID])[0]}"
    if mode:
        prog_id = u32(xdp, IFLA_XDP_PROG_ID)
        line += f"\n    prog/xdp id {prog_id} " + prog_info(prog_id)
    return line + "\n"


def main() -> None:
    command, *args = sys.argv[1:]
    {"replace": replace, "filter-show": filter_show, "link-show": link_show}[command](*args)


if __name__ == "__main__":
    main()
