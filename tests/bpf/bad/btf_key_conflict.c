/* key_size 8 contradicts a 4-byte key type. */
#include "bpf_defs.h"
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(key_size, 8);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 4);
} clash SEC(".maps");
SEC("tc") int prog(struct __sk_buff *skb) { return bpf_map_lookup_elem(&clash, &skb->mark) != 0; }
char LICENSE[] SEC("license") = "GPL";
