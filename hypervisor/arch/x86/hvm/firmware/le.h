/*
 * le.h - unaligned little-endian reads and writes in byte buffers, for the
 * firmware builders and image parsers (table and header fields sit at
 * arbitrary offsets, so no struct casts).
 */
#ifndef KILN_FW_LE_H
#define KILN_FW_LE_H

#include <kiln/lib.h>
#include <kiln/types.h>

static inline u16 get16(const u8 *b, size_t off) { u16 v; kmemcpy(&v, b + off, 2); return v; }
static inline u32 get32(const u8 *b, size_t off) { u32 v; kmemcpy(&v, b + off, 4); return v; }
static inline u64 get64(const u8 *b, size_t off) { u64 v; kmemcpy(&v, b + off, 8); return v; }
static inline void put8(u8 *b, size_t off, u8 v) { b[off] = v; }
static inline void put16(u8 *b, size_t off, u16 v) { kmemcpy(b + off, &v, 2); }
static inline void put32(u8 *b, size_t off, u32 v) { kmemcpy(b + off, &v, 4); }
static inline void put64(u8 *b, size_t off, u64 v) { kmemcpy(b + off, &v, 8); }

#endif
