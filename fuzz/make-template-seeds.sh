#!/bin/bash
# Rebuilds the seed corpus of fuzz_template, fuzz/corpus/template/: a few tiny
# CT templates made with Python's tarfile (names tar would not write: "..",
# absolute, through symlinks), plain and compressed with gzip, xz and zstd.
# Their symlinks name the sentinel and victim of fuzz_template.c.
# Usage: fuzz/make-template-seeds.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/corpus/template
rm -rf "$out"
mkdir -p "$out"
python3 - "$out" <<'PY'
import io, sys, tarfile

out = sys.argv[1]
base = "/dev/shm/labvirt-fuzz-template"

def entry(name, kind=tarfile.REGTYPE, data=b"", mode=0o644, uid=0, link="", dev=(0, 0)):
    t = tarfile.TarInfo(name)
    t.type, t.mode, t.uid, t.gid, t.mtime = kind, mode, uid, uid, 1700000000
    t.linkname = link
    t.devmajor, t.devminor = dev
    t.size = len(data)
    return t, data

seeds = {
    "rootfs": [
        entry("./", tarfile.DIRTYPE, mode=0o755),
        entry("./etc/", tarfile.DIRTYPE, mode=0o755),
        entry("./etc/hostname", data=b"ct\n"),
        entry("./etc/localtime", tarfile.SYMTYPE, link="/usr/share/zoneinfo/UTC"),
        entry("./usr/bin/su", data=b"\x7fELF", mode=0o4755),
        entry("./usr/bin/newgrp", tarfile.LNKTYPE, link="./usr/bin/su"),
        entry("./home/u/", tarfile.DIRTYPE, mode=0o700, uid=1000),
        entry("./dev/null", tarfile.CHRTYPE, mode=0o666, dev=(1, 3)),
        entry("./srv/zero", tarfile.CHRTYPE, mode=0o666, dev=(1, 5)),
    ],
    "hostile": [
        entry("../outside/x", data=b"x"),
        entry(base + "/outside/abs", data=b"x"),
        entry("evil", tarfile.SYMTYPE, link=base + "/outside"),
        entry("evil/file", data=b"x"),
        entry("up", tarfile.SYMTYPE, link="../outside"),
        entry("up/file", data=b"x"),
        entry("pw", tarfile.LNKTYPE, link="/etc/passwd"),
        entry("v", tarfile.SYMTYPE, link=base + "/victim"),
        entry("h", tarfile.LNKTYPE, link="v"),
        entry("v", data=b"replaced"),
        entry("big", data=b"x", uid=70000),
    ],
}
for name, entries in seeds.items():
    # One hostile entry per seed too, so that each is reached at once.
    lists = [(name, entries)]
    if name == "hostile":
        lists += [("hostile-%d" % i, [e]) for i, e in enumerate(entries)]
        lists += [("hostile-evil", entries[2:4]), ("hostile-up", entries[4:6]),
                  ("hostile-victim", entries[7:10])]
    for seed, es in lists:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for t, data in es:
                tar.addfile(t, io.BytesIO(data) if data else None)
        # tarfile pads to 10240 bytes; two zero blocks end an archive.
        raw = buf.getvalue().rstrip(b"\0")
        raw += b"\0" * (-len(raw) % 512) + b"\0" * 1024
        open("%s/%s.tar" % (out, seed), "wb").write(raw)
PY
for f in "$out/rootfs.tar" "$out/hostile.tar"; do
	gzip -9 -n -c "$f" >"$f.gz"
	xz -9 -c "$f" >"$f.xz"
	zstd -q -19 -c "$f" >"$f.zst"
done
echo "$(find "$out" -type f | wc -l) seeds in $out ($(du -sk "$out" | cut -f1) KiB)"
