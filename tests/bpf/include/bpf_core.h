/* bpf_core.h: CO-RE spelled with clang's built-ins (what libbpf's bpf_core_read.h wraps), for
 * the test objects that carry CO-RE relocations. Kinds follow enum bpf_core_relo_kind. */
#ifndef PYBPFTOOL_TEST_BPF_CORE_H
#define PYBPFTOOL_TEST_BPF_CORE_H

#define CORE __attribute__((preserve_access_index))
#define FIELD_BYTE_OFFSET 0
#define FIELD_BYTE_SIZE 1
#define FIELD_EXISTS 2
#define FIELD_SIGNED 3
#define FIELD_LSHIFT_U64 4
#define FIELD_RSHIFT_U64 5
#define TYPE_ID_LOCAL 0
#define TYPE_ID_TARGET 1
#define TYPE_EXISTS 0
#define TYPE_SIZE 1
#define ENUMVAL_EXISTS 0
#define ENUMVAL_VALUE 1
#define field_info(field, kind) __builtin_preserve_field_info(field, kind)
#define type_info(type, kind) __builtin_preserve_type_info(*(type *)0, kind)
#define type_id(type, kind) __builtin_btf_type_id(*(type *)0, kind)
#define enum_info(type, value, kind) __builtin_preserve_enum_value(*(type *)value, kind)

#endif
