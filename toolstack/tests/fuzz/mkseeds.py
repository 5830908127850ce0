#!/usr/bin/env python3
# Writes the seed inputs of fuzz_virtq (tests/fuzz/seeds/virtq/): one
# well-formed request per device and queue, so the fuzzer starts from chains
# the devices actually serve.  Layout as in fuzz_virtq.c: byte 0 picks the
# queue size (1 << (b % 7)), byte 1 the indirect bit and the device, then
# guest RAM with the descriptor table at 0 and the rings right after it.
import os, struct, sys

QSIZE_LOG = 2                      # queue of 4
N = 1 << QSIZE_LOG
AVAIL = 16 * N
USED = (AVAIL + 6 + 2 * N + 3) & ~3
F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4

def image(mode, descs, data, indirect=False, rx=False):
    ram = bytearray(0x1000)
    for i, (addr, length, flags, nxt) in enumerate(descs):
        struct.pack_into("<QIHH", ram, 16 * i, addr, length, flags, nxt)
    struct.pack_into("<HHH", ram, AVAIL, 0, 1, 0)      # flags, idx 1, ring[0] = head 0
    for addr, blob in data:
        ram[addr:addr + len(blob)] = blob
    b1 = (mode << 1) | (1 if indirect else 0) | (0x80 if rx else 0)
    return bytes([QSIZE_LOG, b1]) + bytes(ram)

def blk(kind, sector, datalen, data_writable):
    hdr = struct.pack("<IIQ", kind, 0, sector)
    return image(1, [(0x100, 16, F_NEXT, 1),
                     (0x200, datalen, F_NEXT | (F_WRITE if data_writable else 0), 2),
                     (0x800, 1, F_WRITE, 0)], [(0x100, hdr), (0x200, b"\x5a" * datalen)])

seeds = {
    "walk": image(0, [(0x100, 16, F_NEXT, 1), (0x200, 64, F_WRITE, 0)], []),
    "walk-indirect": image(0, [(0x300, 32, F_INDIRECT, 0)], [
        (0x300, struct.pack("<QIHHQIHH", 0x100, 16, F_NEXT, 1, 0x200, 64, F_WRITE, 0))],
        indirect=True),
    "blk-read": blk(0, 1, 512, True),
    "blk-write": blk(1, 2, 512, False),
    "blk-flush": image(1, [(0x100, 16, F_NEXT, 1), (0x800, 1, F_WRITE, 0)],
                       [(0x100, struct.pack("<IIQ", 4, 0, 0))]),
    "blk-discard": blk(11, 0, 16, False),
    "blk-getid": blk(8, 0, 20, True),
    "con-tx": image(2, [(0x100, 6, 0, 0)], [(0x100, b"hello\n")]),
    "con-rx": image(3, [(0x100, 64, F_WRITE, 0)], []),
    "net-tx": image(4, [(0x100, 12, F_NEXT, 1), (0x200, 60, 0, 0)], []),
    "net-rx": image(4, [(0x100, 1526, F_WRITE, 0)], [], rx=True),
}
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "seeds", "virtq")
os.makedirs(out, exist_ok=True)
for name, blob in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(blob)
