/* heavy: an XDP program the verifier has to walk for a long time (a bounded loop with a
 * branch per iteration), for comparing attach times where verification dominates.
 * LOOPS sets how long: 60 takes the verifier ~0.1 s here, 80 ~0.9 s, 100 exceeds its
 * one-million-instruction budget. */
#include "bpf_defs.h"

#ifndef LOOPS
#define LOOPS 60
#endif

SEC("xdp") int xdp_heavy(struct xdp_md *ctx)
{
	__u32 acc = ctx->ingress_ifindex;

	for (int i = 0; i < LOOPS; i++) {
		if (acc & 1)
			acc = acc * 3 + 1;
		else
			acc >>= 1;
	}
	return acc & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
