"""genobj: C sources of objects that grow along one dimension, for the bounded-work tests and
benchmarks/bench_growth.py.

Each generator returns the text of a C file for tests/bpf/include's bpf_defs.h; compile it with
`build(text, target)`. The objects are real clang output, only larger than anyone writes.
"""

from __future__ import annotations

import hashlib
import subprocess

import bpfobjs

HEADER = '#include "bpf_defs.h"\nchar __license[] SEC("license") = "GPL";\n'


def shared_subprogram(programs: int, insns: int) -> str:
    """shared_subprogram: `programs` entry programs (section `xdp`) that each call one .text
    subprogram of about `insns` instructions."""
    body = '\tasm volatile("r0 = 0");\n' * insns
    parts = [HEADER, f"__noinline int big(struct xdp_md *ctx)\n{{\n{body}\treturn ctx->data;\n}}\n"]
    parts += [
        f'SEC("xdp") int prog{i}(struct xdp_md *ctx) {{ return big(ctx) + {i}; }}\n'
        for i in range(programs)
    ]
    return "".join(parts)


def many_programs(programs: int) -> str:
    """many_programs: `programs` programs, each in its own section, sharing one hash map."""
    parts = [
        HEADER,
        "struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u32); __type(value, __u64);\n"
        '\t__uint(max_entries, 64); } hits SEC(".maps");\n',
    ]
    parts += [
        f'SEC("xdp/p{i}") int prog{i}(struct xdp_md *ctx)\n'
        f"{{ __u32 k = {i}; __u64 *v = bpf_map_lookup_elem(&hits, &k); return v ? 1 : 2; }}\n"
        for i in range(programs)
    ]
    return "".join(parts)


def many_maps(maps: int) -> str:
    """many_maps: `maps` BTF hash maps of one definition type, and one program using the
    first."""
    parts = [
        HEADER,
        "struct def { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u32); __type(value, __u64);"
        " __uint(max_entries, 64); };\n",
    ]
    parts += [f'struct def map{i} SEC(".maps");\n' for i in range(maps)]
    parts.append(
        'SEC("xdp") int prog(struct xdp_md *ctx)\n'
        "{ __u32 k = 0; return bpf_map_lookup_elem(&map0, &k) ? 1 : 2; }\n"
    )
    return "".join(parts)


def map_in_maps(outers: int, slots: int) -> str:
    """map_in_maps: `outers` ARRAY_OF_MAPS, each with `slots` statically filled slots
    (relocations in .rel.maps) naming `slots` shared inner maps."""
    parts = [
        HEADER,
        "struct inner { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32);"
        " __type(value, __u32); __uint(max_entries, 1); };\n",
    ]
    parts += [f'struct inner in{i} SEC(".maps");\n' for i in range(slots)]
    values = ", ".join(f"[{i}] = &in{i}" for i in range(slots))
    parts += [
        "struct { __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __type(key, __u32);"
        f" __uint(max_entries, {slots}); __array(values, struct inner); }}\n"
        f'out{i} SEC(".maps") = {{ .values = {{ {values} }} }};\n'
        for i in range(outers)
    ]
    parts.append('SEC("xdp") int prog(struct xdp_md *ctx) { return 2; }\n')
    return "".join(parts)


def build(text: str, target: str = "bpfel", debug: bool = True) -> bytes:
    """build: the object clang-14 makes of C `text` (cached for the session, like bpfobjs);
    without `debug`, no BTF and no DWARF (-g0)."""
    tag = hashlib.sha1(text.encode()).hexdigest()[:16]
    source = bpfobjs.cache_dir() / f"gen-{tag}.c"
    out = bpfobjs.cache_dir() / f"gen-{tag}-{target}{'' if debug else '-g0'}.o"
    if not out.exists():
        source.write_text(text)
        cmd = [
            bpfobjs.CLANG,
            "-O2",
            "-g" if debug else "-g0",
            "-target",
            target,
            f"-I{bpfobjs.BPF_DIR / 'include'}",
            "-c",
            str(source),
            "-o",
            str(out),
        ]
        subprocess.run(cmd, check=True, capture_output=True)
    return out.read_bytes()
