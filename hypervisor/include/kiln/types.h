/*
 * types.h - the fixed-width types every hypervisor file uses.
 *
 * The hypervisor is freestanding: only the compiler's own <stdint.h>,
 * <stddef.h> and <stdbool.h> are available.  Short names keep the
 * register- and page-table-heavy code readable.
 */
#ifndef KILN_TYPES_H
#define KILN_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t  u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t   s8;
typedef int16_t  s16;
typedef int32_t  s32;
typedef int64_t  s64;

typedef u64 paddr_t;   /* host physical address */
typedef u64 vaddr_t;   /* hypervisor virtual address as an integer */

#endif
