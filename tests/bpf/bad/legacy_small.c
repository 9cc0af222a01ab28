/* A 12-byte map struct: smaller than iproute2's minimum of 16 bytes. */
#include "bpf_defs.h"
struct tiny { __u32 type, size_key, size_value; };
struct tiny SEC("maps") small = { BPF_MAP_TYPE_ARRAY, 4, 4 };
SEC("classifier") int prog(struct __sk_buff *skb) { return bpf_map_lookup_elem(&small, &skb->mark) != 0; }
char LICENSE[] SEC("license") = "GPL";
