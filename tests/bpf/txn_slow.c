/* txn_slow: the pins of txn_legacy.c with a classifier the verifier walks for a long time
 * (a bounded loop it unrolls: 900,000 instructions) and then rejects (an out-of-bounds
 * context read). benchmarks/bench_txn.py measures it: ~0.7-1 s for the first load, without
 * a log, and 13-16 s for the whole pytc command, whose logged retries fetch the verifier's
 * log. A command loading it fails late, after the commands sharing its pins have run. */
#include "txn_maps.h"

#define STEPS 60000

SEC("classifier") int txn_main(struct __sk_buff *skb)
{
	__u32 acc = skb->mark;

	count(0);
	for (int i = 0; i < STEPS; i++)
		acc = acc * 33 + skb->len + i;
	if (acc == 7)
		return TC_ACT_OK;
	return *(volatile __u32 *)((char *)skb + 4000); /* invalid bpf_context access */
}

SEC("1/0") int txn_tail(struct __sk_buff *skb)
{
	count(1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
