/* global_data: .data/.rodata/.bss, clang's .rodata.str1.1 and .rodata.cst16, custom
 * custom .data.custom and .rodata.custom sections, subprograms in .text (global and static), a callback passed
 * by address (BPF_PSEUDO_FUNC), and a `?` section (autoload off). */
#include "bpf_defs.h"

int counter = 7;                                   /* .data */
const volatile __u32 threshold = 100;              /* .rodata */
__u64 hits;                                        /* .bss */
int custom_val SEC(".data.custom") = 3;
const volatile char banner[] SEC(".rodata.custom") = "pybpftool";
static const __u64 table[2] = { 0x1122334455667788ULL, 0x99aabbccddeeff00ULL };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 8);
} values SEC(".maps");

static __noinline int add_hits(int n)
{
	hits += n;
	return (int)hits;
}

__noinline int scale(int v)
{
	return add_hits(v) * (int)threshold;
}

static long visit(void *map, __u32 *key, __u64 *value, void *ctx)
{
	*value += 1;
	return 0;
}

SEC("xdp") int xdp_main(struct xdp_md *ctx)
{
	volatile __u64 pick = table[ctx->rx_queue_index & 1];

	counter++;
	custom_val += banner[0];
	bpf_for_each_map_elem(&values, visit, 0, 0);
	bpf_trace_printk("hits %d\n", sizeof("hits %d\n"), scale(counter) + (int)pick);
	return XDP_PASS;
}

SEC("?tc/ingress") int optional_tc(struct __sk_buff *skb)
{
	return scale(skb->len) > 0 ? TC_ACT_OK : TC_ACT_SHOT;
}

SEC("classifier") int plain_cls(struct __sk_buff *skb) { return TC_ACT_OK; }

char LICENSE[] SEC("license") = "GPL";
