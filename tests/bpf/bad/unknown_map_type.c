/* A map type number no kernel knows. */
#include "bpf_defs.h"
struct bpf_elf_map SEC("maps") odd = { .type = 99, .size_key = 4, .size_value = 4, .max_elem = 1 };
SEC("classifier") int prog(struct __sk_buff *skb) { return bpf_map_lookup_elem(&odd, &skb->mark) != 0; }
char LICENSE[] SEC("license") = "GPL";
