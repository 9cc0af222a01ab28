/* heavy: an XDP program the verifier has to walk for a long time (a bounded loop with a
 * branch per iteration), for comparing attach times where verification dominates. */
#include "bpf_defs.h"

SEC("xdp") int xdp_heavy(struct xdp_md *ctx)
{
	__u32 acc = ctx->ingress_ifindex;

	for (int i = 0; i < 60; i++) {
		if (acc & 1)
			acc = acc * 3 + 1;
		else
			acc >>= 1;
	}
	return acc & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
