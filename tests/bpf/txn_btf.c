/* txn_btf: the BTF twin of the transaction tests' shared state, every map pinned by name:
 * txnb_outer is an __array map-in-map statically holding txnb_in_a and txnb_in_b, and
 * txnb_jmp a prog array statically holding txnb_tail_a and txnb_tail_b. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} txnb_hits SEC(".maps");

struct txnb_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
};
struct txnb_inner txnb_in_a SEC(".maps"), txnb_in_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 2);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct txnb_inner);
} txnb_outer SEC(".maps") = {
	.values = { [0] = &txnb_in_a, [1] = &txnb_in_b },
};

int txnb_tail_a(struct __sk_buff *skb);
int txnb_tail_b(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, int (void *));
} txnb_jmp SEC(".maps") = {
	.values = { [0] = (void *)&txnb_tail_a, [1] = (void *)&txnb_tail_b },
};

static __always_inline void count(__u32 key)
{
	__u64 *hits = bpf_map_lookup_elem(&txnb_hits, &key);

	if (hits)
		__sync_fetch_and_add(hits, 1);
}

SEC("tc") int txnb_main(struct __sk_buff *skb)
{
	__u32 zero = 0;

	count(0);
	if (bpf_map_lookup_elem(&txnb_outer, &zero))
		count(3);
	bpf_tail_call(skb, &txnb_jmp, skb->mark & 1);
	return TC_ACT_OK;
}

SEC("tc") int txnb_tail_a(struct __sk_buff *skb)
{
	count(1);
	return TC_ACT_OK;
}

SEC("tc") int txnb_tail_b(struct __sk_buff *skb)
{
	count(2);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
