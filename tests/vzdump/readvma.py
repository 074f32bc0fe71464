#!/usr/bin/env python3
"""An independent VMA reader for labvirt's tests, written from Proxmox's
vma_spec.txt and nothing of labvirt's: checks an archive labvirt wrote.

    readvma.py ARCHIVE.vma [--config NAME] [--extract DEVICE=OUT]...

Reads the archive from a file or "-" (standard input: pipe `zstd -dc` into it),
checks the header's and every extent's MD5, magic and uuid, that each cluster of
each device appears exactly once and that the data blocks match the masks, and
prints one line per device: "DEVICE SIZE MD5 DATA_BLOCKS" (MD5 of the device's
bytes, zeros included), and with --config NAME that config blob. Exits 1 with a
message on anything wrong.
"""
import argparse
import hashlib
import struct
import sys

CLUSTER = 65536
BLOCK = 4096
ZERO = bytes(CLUSTER)


def fail(msg):
    print("readvma: " + msg, file=sys.stderr)
    sys.exit(1)


def read_exact(f, n):
    b = f.read(n)
    if len(b) != n:
        fail("truncated: wanted %d bytes, got %d" % (n, len(b)))
    return b


def blob(h, off):
    if off == 0 or off + 2 > len(h):
        fail("blob offset %d out of range" % off)
    n = struct.unpack_from("<H", h, off)[0]
    return h[off + 2:off + 2 + n]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("archive")
    ap.add_argument("--config", action="append", default=[])
    ap.add_argument("--extract", action="append", default=[])
    a = ap.parse_args()
    f = sys.stdin.buffer if a.archive == "-" else open(a.archive, "rb")
    fixed = read_exact(f, 12288)
    magic, version, uid, ctime = struct.unpack_from(">4sI16sQ", fixed, 0)
    if magic != b"VMA\0" or version != 1:
        fail("not a VMA version 1 archive")
    blob_off, blob_size, size = struct.unpack_from(">III", fixed, 48)
    h = bytearray(fixed + read_exact(f, size - 12288))
    md5 = bytes(h[32:48])
    h[32:48] = b"\0" * 16
    if hashlib.md5(bytes(h)).digest() != md5:
        fail("header MD5 mismatch")
    table = bytes(h[blob_off:blob_off + blob_size])
    table_at = lambda off: blob(table, off)
    configs = {}
    for i in range(256):
        n_off, d_off = struct.unpack_from(">I", h, 2044 + 4 * i)[0], struct.unpack_from(">I", h, 3068 + 4 * i)[0]
        if n_off:
            configs[table_at(n_off).rstrip(b"\0").decode()] = table_at(d_off)
    devs = {}
    for i in range(1, 256):
        name_off, _, dsize = struct.unpack_from(">IIQ", h, 4096 + 32 * i)
        if name_off:
            devs[i] = (table_at(name_off).rstrip(b"\0").decode(), dsize)
    outs = {}
    for e in a.extract:
        name, path = e.split("=", 1)
        outs[name] = open(path, "wb")
    seen = {i: set() for i in devs}
    sums = {}
    data_blocks = {i: 0 for i in devs}
    images = {i: {} for i in devs}
    while True:
        eh = f.read(512)
        if not eh:
            break
        if len(eh) != 512:
            fail("truncated extent header")
        eh = bytearray(eh)
        emagic, _, count, euid = struct.unpack_from(">4sHH16s", eh, 0)
        if emagic != b"VMAE" or euid != uid:
            fail("bad extent magic or uuid")
        emd5 = bytes(eh[24:40])
        eh[24:40] = b"\0" * 16
        if hashlib.md5(bytes(eh)).digest() != emd5:
            fail("extent MD5 mismatch")
        total = 0
        infos = []
        for k in range(59):
            bi = struct.unpack_from(">Q", eh, 40 + 8 * k)[0]
            if bi == 0:
                continue
            mask, dev, num = bi >> 48, (bi >> 32) & 0xFF, bi & 0xFFFFFFFF
            if dev not in devs:
                fail("unknown device id %d" % dev)
            if num in seen[dev] or num * CLUSTER >= devs[dev][1]:
                fail("cluster %d of device %d twice or past its end" % (num, dev))
            seen[dev].add(num)
            infos.append((mask, dev, num))
            total += bin(mask).count("1")
        if total != count:
            fail("block count %d, masks say %d" % (count, total))
        for mask, dev, num in infos:
            if not mask:
                continue  # all zero: nothing stored, nothing kept
            c = bytearray(CLUSTER)
            for j in range(16):
                if mask & (1 << j):
                    c[j * BLOCK:(j + 1) * BLOCK] = read_exact(f, BLOCK)
                    data_blocks[dev] += 1
            images[dev][num] = bytes(c)
    for i, (name, dsize) in devs.items():
        n = (dsize + CLUSTER - 1) // CLUSTER
        if len(seen[i]) != n:
            fail("device %s: %d of %d clusters" % (name, len(seen[i]), n))
        m = hashlib.md5()
        out = outs.get(name)
        for num in range(n):
            c = images[i].get(num, ZERO)
            if (num + 1) * CLUSTER > dsize:
                c = c[:dsize - num * CLUSTER]
            m.update(c)
            if out:
                out.write(c)
        print("%s %d %s %d" % (name, dsize, m.hexdigest(), data_blocks[i]))
    for name in a.config:
        if name not in configs:
            fail("no config %s" % name)
        sys.stdout.write(configs[name].decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
