/* legacy_maps: iproute2-style object: struct bpf_elf_map maps with every pinning kind,
 * map-in-map through id/inner_id/inner_idx, and tail calls in "ID/KEY" sections. */
#include "bpf_defs.h"

struct bpf_elf_map SEC("maps") counters = {
	.type = BPF_MAP_TYPE_HASH, .size_key = 4, .size_value = 8, .max_elem = 256,
	.flags = BPF_F_NO_PREALLOC, .pinning = PIN_GLOBAL_NS,
};
struct bpf_elf_map SEC("maps") per_object = {
	.type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 2,
	.pinning = PIN_OBJECT_NS,
};
struct bpf_elf_map SEC("maps") custom_pin = {
	.type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 16, .max_elem = 1, .pinning = 5,
};
struct bpf_elf_map SEC("maps") jmp_tc = {
	.type = BPF_MAP_TYPE_PROG_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 4, .id = 42,
};
struct bpf_elf_map SEC("maps") map_inner = {
	.type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 1, .id = 7,
	.inner_idx = 0,
};
struct bpf_elf_map SEC("maps") map_outer = {
	.type = BPF_MAP_TYPE_ARRAY_OF_MAPS, .size_key = 4, .size_value = 4, .max_elem = 2,
	.inner_id = 7, .pinning = PIN_GLOBAL_NS,
};

SEC("classifier") int cls_entry(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&counters, &key);
	void *inner = bpf_map_lookup_elem(&map_outer, &key);

	if (value)
		*value += 1;
	if (inner)
		bpf_map_lookup_elem(inner, &key);
	bpf_tail_call(skb, &jmp_tc, skb->mark & 1);
	return TC_ACT_OK;
}

SEC("42/0") int tail_zero(struct __sk_buff *skb)
{
	__u32 key = 1;
	__u32 *v = bpf_map_lookup_elem(&per_object, &key);
	return v ? *v : TC_ACT_OK;
}

SEC("0x2a/1") int tail_one(struct __sk_buff *skb)
{
	__u32 key = 0;
	return bpf_map_lookup_elem(&custom_pin, &key) ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("99/0") int tail_unmatched(struct __sk_buff *skb) { return TC_ACT_OK; }

char __license[] SEC("license") = "GPL";
