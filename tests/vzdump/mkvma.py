#!/usr/bin/env python3
"""An independent VMA writer for labvirt's tests, written from Proxmox's
vma_spec.txt (pve-qemu) and nothing of labvirt's: what a Proxmox host's
`vzdump` would write for these configs and disks, to check `labvirt restore`
against an archive labvirt did not make.

    mkvma.py OUT.vma --config NAME=FILE... --device NAME=RAWFILE... [--ctime N]
             [--uuid HEX32] [--skip-zero-clusters] [--corrupt WHAT]

Devices get ids 1, 2, ... in the order given. Clusters are written in order,
device after device, 59 to an extent, zero 4 KiB blocks left out of the data
(their mask bit clear); every cluster appears, an all-zero one with mask 0, as
Proxmox's writer does. --corrupt damages one thing after writing (for tests of
the reader's errors): header-md5, extent-md5, extent-magic, truncate-data.
"""
import argparse
import hashlib
import os
import struct
import sys
import uuid as uuidlib

CLUSTER = 65536
BLOCK = 4096
PER_EXTENT = 59


def blob_table(blobs):
    """The blob buffer: offset 0 unused, each blob a little-endian 16-bit size
    then its bytes. Returns (bytes, offsets)."""
    buf = bytearray(b"\0")
    offsets = []
    for b in blobs:
        offsets.append(len(buf))
        buf += struct.pack("<H", len(b)) + b
    return bytes(buf), offsets


def header(uid, ctime, configs, devices):
    names = [n.encode() + b"\0" for n, _ in configs]
    datas = [d for _, d in configs]
    devnames = [n.encode() + b"\0" for n, _ in devices]
    blobs, offs = blob_table(names + datas + devnames)
    blob_off = 12288
    blob_size = (len(blobs) + 511) // 512 * 512
    size = blob_off + blob_size
    h = bytearray(size)
    struct.pack_into(">4sI16sQ", h, 0, b"VMA\0", 1, uid, ctime)
    struct.pack_into(">III", h, 48, blob_off, blob_size, size)
    n = len(configs)
    for i in range(n):
        struct.pack_into(">I", h, 2044 + 4 * i, offs[i])
        struct.pack_into(">I", h, 3068 + 4 * i, offs[n + i])
    for i, (_, dsize) in enumerate(devices):
        struct.pack_into(">IIQ", h, 4096 + 32 * (i + 1), offs[2 * n + i], 0, dsize)
    h[blob_off:blob_off + len(blobs)] = blobs
    h[32:48] = hashlib.md5(bytes(h)).digest()
    return bytes(h)


def clusters(devices):
    """(dev_id, cluster_num, data) for every cluster, device after device."""
    for i, (path, dsize) in enumerate(devices):
        with open(path, "rb") as f:
            for num in range((dsize + CLUSTER - 1) // CLUSTER):
                data = f.read(CLUSTER)
                yield i + 1, num, data.ljust(CLUSTER, b"\0")


def extent(uid, batch):
    infos = []
    data = bytearray()
    for dev, num, c in batch:
        mask = 0
        for j in range(16):
            b = c[j * BLOCK:(j + 1) * BLOCK]
            if b.count(0) != BLOCK:
                mask |= 1 << j
                data += b
        infos.append((mask << 48) | (dev << 32) | num)
    h = bytearray(512)
    struct.pack_into(">4sHH16s", h, 0, b"VMAE", 0, len(data) // BLOCK, uid)
    for k, bi in enumerate(infos):
        struct.pack_into(">Q", h, 40 + 8 * k, bi)
    h[24:40] = hashlib.md5(bytes(h)).digest()
    return bytes(h) + bytes(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--config", action="append", default=[])
    ap.add_argument("--device", action="append", default=[])
    ap.add_argument("--ctime", type=int, default=1714672800)
    ap.add_argument("--uuid", default="6c6162766972742d766d612d74657374")
    ap.add_argument("--corrupt", choices=["header-md5", "extent-md5", "extent-magic",
                                          "truncate-data"])
    a = ap.parse_args()
    uid = uuidlib.UUID(hex=a.uuid).bytes
    configs = []
    for c in a.config:
        name, path = c.split("=", 1)
        with open(path, "rb") as f:
            configs.append((name, f.read()))
    devs = []
    for d in a.device:
        name, path = d.split("=", 1)
        devs.append((name, path, os.path.getsize(path)))
    hdr = header(uid, a.ctime, configs, [(n, s) for n, _, s in devs])
    with open(a.out, "wb") as out:
        out.write(hdr)
        first_extent = out.tell()
        batch = []
        for c in clusters([(p, s) for _, p, s in devs]):
            batch.append(c)
            if len(batch) == PER_EXTENT:
                out.write(extent(uid, batch))
                batch = []
        if batch:
            out.write(extent(uid, batch))
        end = out.tell()
    if a.corrupt:
        with open(a.out, "r+b") as f:
            if a.corrupt == "header-md5":
                f.seek(40)
                f.write(b"\xff")
            elif a.corrupt == "extent-md5":
                f.seek(first_extent + 30)
                f.write(b"\xff")
            elif a.corrupt == "extent-magic":
                f.seek(first_extent)
                f.write(b"XMAE")
            elif a.corrupt == "truncate-data":
                f.truncate(first_extent + (end - first_extent) // 2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
