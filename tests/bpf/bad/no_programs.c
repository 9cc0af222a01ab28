/* Only a subprogram in .text and a map: nothing to load. */
#include "bpf_defs.h"
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u32); __uint(max_entries, 1); } m SEC(".maps");
__noinline int helper(int v) { return v + 1; }
char LICENSE[] SEC("license") = "GPL";
