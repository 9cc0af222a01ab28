/* twin_legacy: iproute2's legacy map format; twin_btf.c is the same code with BTF maps. */
#include "bpf_defs.h"

struct bpf_elf_map SEC("maps") twin_counters = {
	.type = BPF_MAP_TYPE_HASH, .size_key = 4, .size_value = 8, .max_elem = 64,
	.pinning = PIN_GLOBAL_NS,
};
struct bpf_elf_map SEC("maps") twin_jmp = {
	.type = BPF_MAP_TYPE_PROG_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 2, .id = 1,
};
struct bpf_elf_map SEC("maps") twin_inner = {
	.type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 1, .id = 2,
	.inner_idx = 0,
};
struct bpf_elf_map SEC("maps") twin_outer = {
	.type = BPF_MAP_TYPE_ARRAY_OF_MAPS, .size_key = 4, .size_value = 4, .max_elem = 1,
	.inner_id = 2, .pinning = PIN_GLOBAL_NS,
};

#define TAIL_SECTION "1/0"
#include "twin_body.h"
