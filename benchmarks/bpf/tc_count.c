/* tc_count: the object the cold and -batch filter benchmarks attach (bench_speed.py): one
 * BTF hash map, one classifier in section "tc", no pins. Both tc (libbpf 1.1) and pytc load
 * it, and so does floor.py's stdlib-only loader: the three attach the same program tag. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);
} tc_marks SEC(".maps");

SEC("tc") int tc_count(struct __sk_buff *skb)
{
	__u32 key = skb->mark & 0xff;
	__u64 one = 1, *seen = bpf_map_lookup_elem(&tc_marks, &key);

	if (seen)
		__sync_fetch_and_add(seen, 1);
	else
		bpf_map_update_elem(&tc_marks, &key, &one, BPF_ANY);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
