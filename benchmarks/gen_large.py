"""gen_large: C source of a large object for the parse benchmark (spec/python.md §3).

500 programs (250 in `xdp/progN`, 250 in `tc/progN`), 200 BTF hash maps, an inner map with an
ARRAY_OF_MAPS statically initialised (R_BPF_64_ABS64 in .rel.maps), a noinline subprogram
(R_BPF_64_32 calls) and .data/.rodata/.bss globals. clang-14 -O2 -g turns it into ~12,500
relocations, most of them in debug sections.
"""

from __future__ import annotations

HEADER = """\
typedef unsigned int __u32;
typedef unsigned long long __u64;
#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]
struct xdp_md { __u32 data, data_end, data_meta, ingress_ifindex, rx_queue_index; };
struct __sk_buff { __u32 len, pkt_type, mark; };
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
int g_data = 1;
const volatile int g_ro = 2;
__u64 g_bss;
struct inner { __uint(type, 2); __type(key, __u32); __type(value, __u32); __uint(max_entries, 1); };
struct inner inner_map SEC(".maps");
struct {
    __uint(type, 12); __type(key, __u32); __uint(max_entries, 1);
    __array(values, struct inner);
} outer SEC(".maps") = { .values = { &inner_map } };
__attribute__((noinline)) int helper(int v) { return v * g_ro + g_data; }
"""

MAP = """\
struct {{ __uint(type, 1); __type(key, __u32); __type(value, __u64); __uint(max_entries, {n}); }}
map{i} SEC(".maps");
"""

PROG = """\
SEC("{sec}/prog{i}") int prog{i}({ctx} *ctx)
{{
    __u32 k = {i};
    __u64 *v = bpf_map_lookup_elem(&map{m}, &k);
    g_bss += k;
    return helper(v ? (int)*v : {i}) & 1;
}}
"""


def generate(programs: int = 500, maps: int = 200) -> str:
    parts = [HEADER]
    parts += [MAP.format(i=i, n=64 + i) for i in range(maps)]
    for i in range(programs):
        sec, ctx = ("xdp", "struct xdp_md") if i < programs // 2 else ("tc", "struct __sk_buff")
        parts.append(PROG.format(sec=sec, ctx=ctx, i=i, m=i % maps))
    parts.append('char LICENSE[] SEC("license") = "GPL";\n')
    return "".join(parts)


if __name__ == "__main__":
    print(generate(), end="")
