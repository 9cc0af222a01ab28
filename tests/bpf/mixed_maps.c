/* mixed_maps: legacy `maps` and BTF `.maps` in one object, used by one program. With
 * -DWITH_SLOTS both kinds also have a map-in-map with a static slot (the converter's tests:
 * the legacy slots join the BTF ones in `.rel.maps`). */
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

#ifdef WITH_SLOTS
struct btf_inner_def {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 2);
};
struct btf_inner_def btf_inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 2);
	__array(values, struct btf_inner_def);
} btf_outer SEC(".maps") = { .values = { [1] = &btf_inner } };

struct bpf_elf_map SEC("maps") legacy_inner = {
	.type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 2,
	.id = 5, .inner_idx = 0,
};
struct bpf_elf_map SEC("maps") legacy_outer = {
	.type = BPF_MAP_TYPE_ARRAY_OF_MAPS, .size_key = 4, .size_value = 4, .max_elem = 1,
	.inner_id = 5,
};
#endif

SEC("ingress") int both(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *a = bpf_map_lookup_elem(&legacy_cnt, &key);
	__u32 *b = bpf_map_lookup_elem(&btf_cnt, &key);

#ifdef WITH_SLOTS
	if (bpf_map_lookup_elem(&btf_outer, &key) || bpf_map_lookup_elem(&legacy_outer, &key))
		return 1;
#endif
	return (a ? (int)*a : 0) + (b ? (int)*b : 0);
}

char LICENSE[] SEC("license") = "GPL";
