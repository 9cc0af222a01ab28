/* map_in_map: maps of maps the iproute2 way. An outer map names its template by `inner_id`
 * (the first map whose `id` it is); every map with that id and an `inner_idx` other than
 * BPF_ELF_NO_SLOT goes into that slot of each such outer. The outers come first here, so a
 * converter must still create the slot maps before them. */
#include "bpf_defs.h"

#define PORTS_ID 21

struct bpf_elf_map SEC("maps") by_index = {
	.type = BPF_MAP_TYPE_ARRAY_OF_MAPS, .size_key = 4, .size_value = 4, .max_elem = 3,
	.inner_id = PORTS_ID, .pinning = PIN_GLOBAL_NS,
};
struct bpf_elf_map SEC("maps") by_hash = {
	.type = BPF_MAP_TYPE_HASH_OF_MAPS, .size_key = 4, .size_value = 4, .max_elem = 8,
	.inner_id = PORTS_ID,
};
struct bpf_elf_map SEC("maps") ports_a = {
	.type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 8, .max_elem = 4,
	.id = PORTS_ID, .inner_idx = 0,
};
struct bpf_elf_map SEC("maps") ports_b = {
	.type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 8, .max_elem = 4,
	.id = PORTS_ID, .inner_idx = 2, .pinning = PIN_GLOBAL_NS,
};
struct bpf_elf_map SEC("maps") ports_spare = {
	.type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 8, .max_elem = 4,
	.id = PORTS_ID, .inner_idx = BPF_ELF_NO_SLOT,
};

#ifdef NESTED	/* a variant for the converter's tests: an outer whose template is an outer */
struct bpf_elf_map SEC("maps") middle = {
	.type = BPF_MAP_TYPE_ARRAY_OF_MAPS, .size_key = 4, .size_value = 4, .max_elem = 3,
	.id = 30, .inner_id = PORTS_ID,
};
struct bpf_elf_map SEC("maps") top = {
	.type = BPF_MAP_TYPE_ARRAY_OF_MAPS, .size_key = 4, .size_value = 4, .max_elem = 1,
	.inner_id = 30,
};
#endif

static __always_inline void bump(void *outer, __u32 slot, __u32 port)
{
	void *inner = bpf_map_lookup_elem(outer, &slot);
	__u64 *count;

	if (!inner)
		return;
	count = bpf_map_lookup_elem(inner, &port);
	if (count)
		__sync_fetch_and_add(count, 1);
}

SEC("classifier") int count_ports(struct __sk_buff *skb)
{
	__u32 port = skb->mark & 3;

	bump(&by_index, skb->mark >> 30, port);
	bump(&by_hash, skb->priority, port);
	bpf_map_lookup_elem(&ports_spare, &port);
	return TC_ACT_OK;
}

char __license[] SEC("license") = "GPL";
