/* rodata_ref: one program reading a .rodata variable: a relocation to a data map value.
 * Tests move the variable's symbol far past its section (a hostile st_value) with and
 * without BTF (-g0). */
#include "bpf_defs.h"

const volatile __u32 limit = 100;

SEC("xdp") int xdp_limit(struct xdp_md *ctx)
{
	return ctx->data_end - ctx->data > limit ? 1 : 2;
}

char __license[] SEC("license") = "GPL";
