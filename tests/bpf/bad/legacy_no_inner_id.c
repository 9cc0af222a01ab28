/* An ARRAY_OF_MAPS without inner_id: iproute2 cannot create it. */
#include "bpf_defs.h"
struct bpf_elf_map SEC("maps") outer = { .type = BPF_MAP_TYPE_ARRAY_OF_MAPS, .size_key = 4, .size_value = 4, .max_elem = 1 };
SEC("classifier") int prog(struct __sk_buff *skb) { return bpf_map_lookup_elem(&outer, &skb->mark) != 0; }
char LICENSE[] SEC("license") = "GPL";
