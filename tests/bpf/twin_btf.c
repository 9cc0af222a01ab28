/* twin_btf: twin_legacy.c's maps as BTF definitions (pinned by name where the legacy ones
 * are PIN_GLOBAL_NS, which lands in the same tc/globals folder). */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} twin_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, 4);
	__uint(value_size, 4);
	__uint(max_entries, 2);
} twin_jmp SEC(".maps");

struct twin_inner_def {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} twin_inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct twin_inner_def);
} twin_outer SEC(".maps") = { .values = { &twin_inner } };

#define TAIL_SECTION "tail"
#include "twin_body.h"
