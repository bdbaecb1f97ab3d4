#!/usr/bin/env python3
"""Build-time check of the CUDA fat binary (ctest, label cuda).

usage: check_kernels.py OBJECT_OR_ARCHIVE --objcopy OBJCOPY [--cuobjdump CUOBJDUMP]
                        --arch 80 --arch 90 --kernel empty --kernel saxpy ...

Asserts that for every --arch an sm_<arch> ELF (cubin) is embedded and that
it defines spool_cu_launch_<kernel> and spool_cu_persistent_<kernel> for
every --kernel. The fat binary is read from the .nv_fatbin section (objcopy)
and its ELF images are parsed here; when cuobjdump is available its
--list-elf output is checked as well.
"""
import argparse
import os
import struct
import subprocess
import sys
import tarfile
import tempfile

FATBIN_MAGIC = 0xBA55ED50


def fail(msg):
    print("check_kernels: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def elf_functions(elf):
    """Names of the global/weak FUNC symbols of an ELF64 image."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        raise ValueError("not an ELF64 image")
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", elf, 0x3A)
    sections = []
    for i in range(shnum):
        name, typ, flags, addr, off, size, link, info, align, entsize = struct.unpack_from(
            "<IIQQQQIIQQ", elf, shoff + i * shentsize)
        sections.append((typ, off, size, link, entsize))
    names = set()
    for typ, off, size, link, entsize in sections:
        if typ != 2 or entsize == 0:  # SHT_SYMTAB
            continue
        _, stroff, strsize, _, _ = sections[link]
        for j in range(size // entsize):
            st_name, st_info = struct.unpack_from("<IB", elf, off + j * entsize)
            if (st_info & 0xF) != 2:  # STT_FUNC
                continue
            end = elf.index(b"\0", stroff + st_name)
            names.add(elf[stroff + st_name:end].decode("ascii", "replace"))
    return names


def fatbin_images(blob):
    """(kind, sm, payload, compressed) for each entry of each fat binary container."""
    out = []
    pos = 0
    while pos + 16 <= len(blob):
        magic, _, hsize, fsize = struct.unpack_from("<IHHQ", blob, pos)
        if magic != FATBIN_MAGIC:
            pos += 8  # containers are 8-byte aligned inside the section
            continue
        off, end = pos + hsize, pos + hsize + fsize
        while off + 32 <= end:
            kind, _, ehs, psz = struct.unpack_from("<HHIQ", blob, off)
            words = struct.unpack_from("<8I", blob, off)
            sm = words[7]
            flags, = struct.unpack_from("<Q", blob, off + 40) if ehs >= 48 else (0,)
            payload = blob[off + ehs:off + ehs + psz]
            compressed = bool(flags & 0x2000) or payload[:4] == b"\x28\xb5\x2f\xfd"
            out.append((kind, sm, payload, compressed))
            if ehs == 0 or psz == 0:
                break
            off += ehs + psz
        pos = end
    return out


def objects_of(path, tmp):
    """The object files to inspect: the file itself, or the members of an archive."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head != b"!<arch>\n":
        return [path]
    out = subprocess.run(["ar", "t", path], check=True, capture_output=True, text=True).stdout.split()
    subprocess.run(["ar", "x", os.path.abspath(path)], check=True, cwd=tmp)
    return [os.path.join(tmp, m) for m in out]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--objcopy", default="objcopy")
    ap.add_argument("--cuobjdump", default="")
    ap.add_argument("--arch", action="append", required=True)
    ap.add_argument("--kernel", action="append", required=True)
    a = ap.parse_args()
    if not os.path.exists(a.binary):
        fail(a.binary + " does not exist (build the spool_cuda target first)")

    found = {}  # sm -> set of function names
    with tempfile.TemporaryDirectory() as tmp:
        for i, obj in enumerate(objects_of(a.binary, tmp)):
            sec = os.path.join(tmp, "fatbin%d.bin" % i)
            r = subprocess.run([a.objcopy, "-O", "binary", "--only-section=.nv_fatbin", obj, sec],
                               capture_output=True, text=True)
            if r.returncode != 0 or not os.path.exists(sec) or os.path.getsize(sec) == 0:
                continue
            with open(sec, "rb") as f:
                blob = f.read()
            for kind, sm, payload, compressed in fatbin_images(blob):
                if kind != 2:
                    continue
                if compressed:
                    fail("sm_%d ELF image in %s is compressed; build with "
                         "-Xfatbin=-compress-all off or install cuobjdump" % (sm, obj))
                found.setdefault(sm, set()).update(elf_functions(payload))
    if not found:
        fail("no CUDA ELF images (.nv_fatbin) found in " + a.binary)
    print("check_kernels: ELF images for " + ", ".join("sm_%d" % s for s in sorted(found)))
    errors = []
    for arch in a.arch:
        sm = int(arch)
        if sm not in found:
            errors.append("no sm_%d ELF image (found: %s)" % (sm, sorted(found)))
            continue
        for k in a.kernel:
            for variant in ("launch", "persistent"):
                sym = "spool_cu_%s_%s" % (variant, k)
                if sym not in found[sm]:
                    errors.append("sm_%d: kernel %s missing" % (sm, sym))
    if a.cuobjdump:
        r = subprocess.run([a.cuobjdump, "--list-elf", a.binary], capture_output=True, text=True)
        if r.returncode != 0:
            errors.append("cuobjdump --list-elf failed: " + r.stderr.strip())
        else:
            for arch in a.arch:
                if "sm_%s" % arch not in r.stdout:
                    errors.append("cuobjdump --list-elf lists no sm_%s ELF:\n%s" % (arch, r.stdout))
    if errors:
        fail("\n  ".join([""] + errors))
    print("check_kernels: OK: %d kernels x 2 variants for %s" %
          (len(a.kernel), ", ".join("sm_" + x for x in a.arch)))


if __name__ == "__main__":
    main()
