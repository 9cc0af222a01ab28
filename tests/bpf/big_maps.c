/* big_maps: a program whose array asks for ENTRIES x 4 bytes (the default, 1 << 28, is
 * 1 GiB): `object verify` must not create it unless told to. The hash allocates its
 * elements as they are added (NO_PREALLOC): only its buckets count (16 bytes each). */
#include "bpf_defs.h"

#ifndef ENTRIES
#define ENTRIES (1 << 28)
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, ENTRIES);
} big SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1 << 20);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} sparse SEC(".maps");

SEC("tc") int use_big(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u32 *v = bpf_map_lookup_elem(&big, &key);
	__u64 *w = bpf_map_lookup_elem(&sparse, &key);

	return (v ? *v : 0) + (w ? *w : 0);
}

char LICENSE[] SEC("license") = "GPL";
