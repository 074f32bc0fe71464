#!/bin/bash
# Rebuilds the seed corpus of fuzz_vma, fuzz/corpus/vma/: a few small VMA
# archives built with Python from pve-qemu's format (not with vma.c's writer):
# one device over two extents, two devices interleaved with a partial last
# cluster and a block past its end, and an archive without devices.
# Usage: fuzz/make-vma-seeds.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/corpus/vma
rm -rf "$out"
mkdir -p "$out"
python3 - "$out" <<'PY'
import hashlib, struct, sys

out = sys.argv[1]
UUID = bytes(range(16))

def md5_into(buf, at):
    buf[at:at + 16] = b"\0" * 16
    buf[at:at + 16] = hashlib.md5(bytes(buf)).digest()

def header(configs, devices):
    blobs = bytearray(1)
    def blob(b):
        at = len(blobs)
        blobs.extend(struct.pack("<H", len(b)) + b)
        return at
    refs = [(blob(n.encode() + b"\0"), blob(d)) for n, d in configs]
    names = [blob(n.encode() + b"\0") for _, n, _ in devices]
    size = 12288 + (len(blobs) + 511) // 512 * 512
    h = bytearray(size)
    h[0:4] = b"VMA\0"
    struct.pack_into(">I16sQ", h, 4, 1, UUID, 1700000000)
    struct.pack_into(">III", h, 48, 12288, len(blobs), size)
    for i, (n, d) in enumerate(refs):
        struct.pack_into(">I", h, 2044 + 4 * i, n)
        struct.pack_into(">I", h, 3068 + 4 * i, d)
    for (dev_id, _, dev_size), n in zip(devices, names):
        struct.pack_into(">IIQ", h, 4096 + 32 * dev_id, n, 0, dev_size)
    h[12288:12288 + len(blobs)] = blobs
    md5_into(h, 32)
    return bytes(h)

def extent(slots):
    e = bytearray(512)
    e[0:4] = b"VMAE"
    data = bytearray()
    for i, (dev_id, cluster, mask) in enumerate(slots):
        struct.pack_into(">Q", e, 40 + 8 * i, mask << 48 | dev_id << 32 | cluster)
        for j in range(16):
            if mask >> j & 1:
                data += bytes([(dev_id * 31 + cluster * 7 + j) | 1]) * 4096
    struct.pack_into(">H", e, 6, len(data) // 4096)
    e[8:24] = UUID
    md5_into(e, 24)
    return bytes(e) + bytes(data)

conf = [("qemu-server.conf", b"memory: 512\nscsi0: local:100/vm-100-disk-0.raw\n")]
seeds = {
    "one-device": header(conf, [(1, "drive-scsi0", 65536 + 4096)])
    + extent([(1, 0, 0x0001)]) + extent([(1, 1, 0x0000)]),
    "interleaved": header(conf + [("qemu-server.fw", b"[OPTIONS]\n")],
                          [(1, "drive-scsi0", 65536 + 6144), (2, "drive-efidisk0", 131072)])
    + extent([(1, 0, 0), (2, 1, 0x8000), (1, 1, 0x0007), (2, 0, 0)]),
    "no-devices": header(conf, []) + extent([]),
}
for name, data in seeds.items():
    open("%s/%s.vma" % (out, name), "wb").write(data)
PY
echo "$(find "$out" -type f | wc -l) seeds in $out ($(du -sk "$out" | cut -f1) KiB)"
