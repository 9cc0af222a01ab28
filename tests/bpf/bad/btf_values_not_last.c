/* `values` must be the last member of a map definition. */
#include "bpf_defs.h"
struct inner { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u32); __uint(max_entries, 1); };
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	struct inner *values[0];
	__uint(max_entries, 1);
	__type(key, __u32);
} outer SEC(".maps");
SEC("tc") int prog(struct __sk_buff *skb) { return bpf_map_lookup_elem(&outer, &skb->mark) != 0; }
char LICENSE[] SEC("license") = "GPL";
