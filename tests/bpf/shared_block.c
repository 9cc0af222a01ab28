/* shared_block: two programs of one section call the same static subprogram, so both get
 * the same block of subprograms appended (the parser lays it out once). A test patches the
 * subprogram to call back into `first`: then `first` must jump to its own start, while
 * `second` gets `first` appended as one more subprogram. */
#include "bpf_defs.h"

SEC("xdp") static __noinline int bump(struct xdp_md *ctx) { return ctx->data + 1; }

SEC("xdp") int first(struct xdp_md *ctx) { return bump(ctx) + 2; }

SEC("xdp") int second(struct xdp_md *ctx) { return bump(ctx) + 3; }

char __license[] SEC("license") = "GPL";
