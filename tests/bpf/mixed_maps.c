/* mixed_maps: legacy `maps` and BTF `.maps` in one object, used by one program. */
#include "bpf_defs.h"

struct bpf_elf_map SEC("maps") legacy_cnt = {
	.type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 8, .max_elem = 4,
	.pinning = PIN_GLOBAL_NS,
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 32);
} btf_cnt SEC(".maps");

SEC("ingress") int both(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *a = bpf_map_lookup_elem(&legacy_cnt, &key);
	__u32 *b = bpf_map_lookup_elem(&btf_cnt, &key);

	return (a ? (int)*a : 0) + (b ? (int)*b : 0);
}

char LICENSE[] SEC("license") = "GPL";
