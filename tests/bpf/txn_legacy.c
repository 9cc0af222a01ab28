/* txn_legacy: a legacy object whose pins are all shared state: txn_hits counts packets
 * (slot 0: the classifier, 3: it found txn_outer[0], TAIL_KEY: tail call 1/0), txn_jmp holds
 * the tail calls 1/0 and 1/1, txn_outer holds txn_inner. Built with -DTAIL_KEY=2 it is a
 * second object with the same pins whose tail call counts elsewhere: which program is in
 * txn_jmp[0] shows in the counters. -DTAIL_OUT_OF_BOUNDS adds a tail call for slot 5 of the
 * 2-slot txn_jmp; -DTAIL_REJECTED makes the verifier refuse tail call 1/1. */
#include "txn_maps.h"

#ifndef TAIL_KEY
#define TAIL_KEY 1
#endif

SEC("classifier") int txn_main(struct __sk_buff *skb)
{
	__u32 zero = 0;

	count(0);
	if (bpf_map_lookup_elem(&txn_outer, &zero))
		count(3);
	bpf_tail_call(skb, &txn_jmp, 0);
	return TC_ACT_OK;
}

SEC("1/0") int txn_tail(struct __sk_buff *skb)
{
	count(TAIL_KEY);
	return TC_ACT_OK;
}

SEC("1/1") int txn_spare(struct __sk_buff *skb)
{
#ifdef TAIL_REJECTED
	return *(volatile __u32 *)((char *)skb + 4000); /* invalid bpf_context access */
#else
	return TC_ACT_OK;
#endif
}

#ifdef TAIL_OUT_OF_BOUNDS
SEC("1/5") int txn_far(struct __sk_buff *skb) { return TC_ACT_OK; }
#endif

char LICENSE[] SEC("license") = "GPL";
