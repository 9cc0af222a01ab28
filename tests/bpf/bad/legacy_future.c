/* A map struct larger than struct bpf_elf_map: iproute2 rejects it. */
#include "bpf_defs.h"
struct bpf_elf_map_v2 { __u32 f[10]; };
struct bpf_elf_map_v2 SEC("maps") big = { .f = { BPF_MAP_TYPE_ARRAY, 4, 4, 1 } };
SEC("classifier") int prog(struct __sk_buff *skb) { return bpf_map_lookup_elem(&big, &skb->mark) != 0; }
char LICENSE[] SEC("license") = "GPL";
