/* btf_maps: BTF-defined maps in every encoding: __uint, __type, __ulong (map_extra),
 * __array(values, ...) for map-in-map and prog arrays with static slots, pinning by name. */
#include "bpf_defs.h"

struct flow_key { __u32 saddr, daddr; __u16 sport, dport; __u8 proto; };
struct flow_stats { __u64 packets, bytes; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(key_size, 4);
	__uint(value_size, 8);
	__uint(max_entries, 16);
} sized SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(value_size, 4);
	__uint(max_entries, 128);
	__ulong(map_extra, 3);
} bloom SEC(".maps");

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
};
struct inner_map inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 3);
	__array(values, struct inner_map);
} outer SEC(".maps") = {
	.values = { [0] = &inner_a, [2] = &inner_b },
};

int tail_a(struct __sk_buff *skb);
int tail_b(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (void *));
} jumps SEC(".maps") = {
	.values = { [1] = (void *)&tail_a, [3] = (void *)&tail_b },
};

SEC("tc") int tc_main(struct __sk_buff *skb)
{
	struct flow_key key = { .saddr = skb->mark, .proto = 6 };
	struct flow_stats *st = bpf_map_lookup_elem(&flows, &key);
	__u32 idx = 0;
	void *inner = bpf_map_lookup_elem(&outer, &idx);

	if (st)
		st->packets++;
	if (inner)
		bpf_map_lookup_elem(inner, &idx);
	bpf_map_lookup_elem(&sized, &idx);
	bpf_tail_call(skb, &jumps, 1);
	return TC_ACT_OK;
}

SEC("tc") int tail_a(struct __sk_buff *skb) { return TC_ACT_SHOT; }
SEC("tc") int tail_b(struct __sk_buff *skb)
{
	__u32 mark = skb->mark;

	return bpf_map_peek_elem(&bloom, &mark) == 0; /* bloom filters answer peek, not lookup */
}

char LICENSE[] SEC("license") = "GPL";
