#!/usr/bin/env python3
"""Thread-instructions per element of every kernel's hot loop, from the sm_90 SASS of the committed fatbin.

    sass_budget.py --fatbin F --nvdisasm N --budget B [--table OUT.md] [--check]

How a kernel is measured (static counts: no GPU needed):
  * The sm_90 cubin is cut out of the fatbin (each embedded ELF image is found by its magic and its section table)
    and disassembled with nvdisasm. Older nvdisasm releases (Debian's 11.8) do not know the ELF header of CUDA 13
    cubins; the header's OS/ABI fields and flags are rewritten to the older encoding of the same architecture,
    which changes nothing in the code they read.
  * Loops are found from the control flow: a branch to an address at or before itself is a back edge, and the
    instructions from its target to it are the loop. Only innermost loops count (a loop containing another is a
    row or chunk loop around the real work); loops that overlap without nesting (a cold block placed after the
    loop that jumps back into it) are merged into one. Loops that move only 64-bit values (the double partial sums
    of a row or a channel) are not per element and are left out. Instructions are counted statically: a warp whose lanes
    take both sides of a branch runs both, which is what divergent data costs; out-of-line callees (slow paths of
    division and of 64-bit integer division) are not counted, only the CALL.
  * Elements per iteration: the floats the loop stores (global or shared; a 128-bit store is 4), or for a loop
    that only reads, the floats it reads from its most-read memory space (so a loop that reads two global arrays
    per element, a backward dot product, is credited twice its elements: its figure is a lower bound). Instructions per element of a loop =
    instructions / elements.
  * Loops with the same memory operations per element and the same special units are one pass compiled
    several times (an unrolled loop and its remainders, which cover other elements): the cheapest per element
    stands for the pass, the steady state. A kernel's cost is the sum over its passes. A loop the compiler
    duplicated for a rare case (a masked row's version of an output loop) counts as a pass of its own, which
    overstates such a kernel: the figures err on the side of cost. Kernels
    with a float4 path and a scalar fallback have two figures: "float4" (the passes with 128-bit accesses) is what
    runs when the pointers are 16-byte aligned and is what the budget checks; "scalar" (the passes without) is
    the fallback, reported. A kernel without float4 passes is checked on its scalar figure.
  * Registers (EIATTR_REGCOUNT), block size (__launch_bounds__, EIATTR_MAX_THREADS) and static shared memory
    (.nv.shared.*, which includes the 1 KB sm_90 reserves per block) come from the cubin; occupancy follows from
    them for sm_90 (65536 registers, 64 warps, 32 blocks and 228 KB shared memory per SM).
"""
import argparse
import fnmatch
import re
import struct
import subprocess
import sys
import tempfile
from collections import defaultdict

EM_CUDA = 190
SM = 90
REGS_PER_SM, WARPS_PER_SM, BLOCKS_PER_SM, SMEM_PER_SM = 65536, 64, 32, 228 * 1024


# ---- cubin ---------------------------------------------------------------------------------------------------

def elf_images(blob):
    """Every ELF image embedded in a fatbin, as bytes (an image ends where its last header or section does)."""
    images, at = [], 0
    while True:
        at = blob.find(b"\x7fELF\x02\x01", at)
        if at < 0:
            return images
        phoff, shoff = struct.unpack_from("<QQ", blob, at + 0x20)
        phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", blob, at + 0x36)
        size = max(phoff + phentsize * phnum, shoff + shentsize * shnum)
        for i in range(shnum):
            kind, = struct.unpack_from("<I", blob, at + shoff + i * shentsize + 4)
            offset, length = struct.unpack_from("<QQ", blob, at + shoff + i * shentsize + 0x18)
            if kind != 8:  # SHT_NOBITS takes no room in the file
                size = max(size, offset + length)
        for i in range(phnum):
            offset, = struct.unpack_from("<Q", blob, at + phoff + i * phentsize + 8)
            length, = struct.unpack_from("<Q", blob, at + phoff + i * phentsize + 0x20)
            size = max(size, offset + length)
        end = at + size
        images.append(bytes(blob[at:end]))
        at = end


def cuda_arch(image):
    """The SM of a CUDA cubin: CUDA 13 (OS/ABI 0x41) keeps it in flags bits 8-15, older releases in bits 0-7."""
    machine, = struct.unpack_from("<H", image, 0x12)
    if machine != EM_CUDA:
        return None
    flags, = struct.unpack_from("<I", image, 0x30)
    return (flags >> 8) & 0xFF if image[7] == 0x41 else flags & 0xFF


def legacy_header(image, sm):
    """The same cubin with the pre-CUDA-13 header (OS/ABI 0x33, ABI version 7, flags sm | sm << 16 | 64-bit)."""
    b = bytearray(image)
    b[7], b[8] = 0x33, 7
    struct.pack_into("<I", b, 0x30, sm | (sm << 16) | 0x500)
    return bytes(b)


class Cubin:
    def __init__(self, image):
        self.b = image
        shoff, = struct.unpack_from("<Q", image, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", image, 0x3A)
        self.sections = [struct.unpack_from("<IIQQQQIIQQ", image, shoff + i * shentsize) for i in range(shnum)]
        names = self.sections[shstrndx]
        self.names = [self._str(names[4] + s[0]) for s in self.sections]

    def _str(self, off):
        return self.b[off:self.b.index(b"\0", off)].decode()

    def data(self, name):
        for n, s in zip(self.names, self.sections):
            if n == name:
                return self.b[s[4]:s[4] + s[5]]
        return None

    def symbols(self):
        for n, s in zip(self.names, self.sections):
            if n == ".symtab":
                strtab = self.sections[s[6]]
                return [self._str(strtab[4] + struct.unpack_from("<I", self.b, s[4] + i)[0])
                        for i in range(0, s[5], 24)]
        return []

    @staticmethod
    def attributes(data):
        """The (attribute, value bytes) entries of an .nv.info section."""
        out, p = [], 0
        while p < len(data):
            fmt, attr = data[p], data[p + 1]
            p += 2
            if fmt == 4:
                size, = struct.unpack_from("<H", data, p)
                out.append((attr, data[p + 2:p + 2 + size]))
                p += 2 + size
            else:  # no value, a byte or a half-word: every such entry takes 4 bytes
                out.append((attr, data[p:p + 2]))
                p += 2
        return out

    def resources(self):
        """kernel -> (registers, max threads per block, static shared bytes)."""
        syms = self.symbols()
        regs = {}
        for attr, v in self.attributes(self.data(".nv.info") or b""):
            if attr == 0x2F:  # EIATTR_REGCOUNT: symbol index, registers
                sym, count = struct.unpack_from("<II", v)
                regs[syms[sym]] = count
        out = {}
        for n in self.names:
            if n.startswith(".text."):
                k = n[len(".text."):]
                threads = 1024
                for attr, v in self.attributes(self.data(".nv.info." + k) or b""):
                    if attr == 0x05 and len(v) == 12:  # EIATTR_MAX_THREADS
                        x, y, z = struct.unpack_from("<III", v)
                        threads = x * y * z
                smem = self.data(".nv.shared." + k)
                out[k] = (regs.get(k, 0), threads, len(smem) if smem is not None else 0)
        return out


def occupancy(regs, threads, smem):
    warps = (threads + 31) // 32
    regs_per_warp = -(-max(regs, 1) * 32 // 256) * 256
    blocks = min(BLOCKS_PER_SM, WARPS_PER_SM // warps, REGS_PER_SM // (regs_per_warp * warps),
                 SMEM_PER_SM // smem if smem else BLOCKS_PER_SM)
    return blocks * warps / WARPS_PER_SM


# ---- SASS ----------------------------------------------------------------------------------------------------

DISTINCT_UNITS = {"MUFU", "DADD", "DFMA", "DMUL", "FMNMX", "SHFL"}
INSN = re.compile(r"^\s+/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;?\s*$")
LABEL = re.compile(r"^(\S+):$")
TARGET = re.compile(r"`\(([^)]+)\)")
MEM = re.compile(r"^(?:@!?U?P\w+\s+)?(LDG|STG|LDS|STS|LD|ST)\b(\S*)")


def kernels_of(sass):
    """kernel -> [(address, instruction)] of its body (its out-of-line subroutines excluded), and label addresses."""
    kernels, labels = {}, {}
    current, body, pending = None, None, []
    for line in sass.splitlines():
        if line.startswith("//----") and ".text." in line:
            current = line.split(".text.")[1].split()[0]
            body = kernels[current] = []
            labels[current] = {}
            pending = []
            continue
        if current is None:
            continue
        m = LABEL.match(line)
        if m:
            if m.group(1).startswith("$"):
                body = None  # a subroutine follows the kernel body
            pending.append(m.group(1))
            continue
        m = INSN.match(line)
        if m and body is not None:
            addr = int(m.group(1), 16)
            for p in pending:
                labels[current][p] = addr
            pending = []
            if not m.group(2).startswith("NOP"):
                body.append((addr, m.group(2)))
    return kernels, labels


def loops_of(body, labels):
    ranges = []
    for addr, text in body:
        op = text.split()[1] if text.startswith("@") else text.split()[0]
        if op.startswith("BRA"):
            t = TARGET.search(text)
            if t and t.group(1) in labels and labels[t.group(1)] <= addr:
                ranges.append((labels[t.group(1)], addr))
    merged = True
    while merged:  # overlapping without nesting: one loop
        merged = False
        for i, a in enumerate(ranges):
            for j, b in enumerate(ranges):
                if i < j and a[0] < b[0] <= a[1] < b[1] or i < j and b[0] < a[0] <= b[1] < a[1]:
                    ranges[i] = (min(a[0], b[0]), max(a[1], b[1]))
                    del ranges[j]
                    merged = True
                    break
            if merged:
                break
    return sorted(set(ranges))


def floats(suffix):
    width = 4 if ".128" in suffix else 2 if ".64" in suffix else 0 if (".U8" in suffix or ".S8" in suffix or ".U16" in suffix or ".S16" in suffix) else 1
    return width


def loop_metrics(body, lo, hi):
    insns = [t for a, t in body if lo <= a <= hi]
    stores, loads = 0, defaultdict(int)
    ops = defaultdict(int)
    vector = False
    for t in insns:
        m = MEM.match(t)
        if not m:
            continue
        op, suffix = m.group(1), m.group(2)
        n = floats(suffix)
        ops[op + suffix] += 1
        if op in ("STG", "STS", "ST"):
            stores += n
        else:
            loads["shared" if op == "LDS" else "global"] += n
        if ".128" in suffix:
            vector = True
    elements = stores if stores else max(loads.values(), default=0)
    if elements == 0 or all(".64" in k for k in ops):
        return None  # moves no floats (a shuffle reduction) or only doubles (partial sums): not per element
    # Copies of one pass (an unrolled loop and its remainder) move the same data per element and use the same
    # special units (exponentials, fp64, max, shuffles); distinct passes differ in one or the other.
    kinds = frozenset(op for op in (re.sub(r"^@!?U?P\w+\s+", "", t).split()[0].split(".")[0] for t in insns)
                      if op in DISTINCT_UNITS)
    signature = (tuple(sorted((k, round(v / elements, 4)) for k, v in ops.items())), kinds)
    return {"insns": len(insns), "elements": elements, "per_element": len(insns) / elements, "vector": vector,
            "signature": signature}


def kernel_costs(body, labels):
    loops = [(r, loop_metrics(body, *r)) for r in loops_of(body, labels)]
    loops = [(r, m) for r, m in loops if m]
    by_signature = defaultdict(list)
    for (lo, hi), m in loops:
        if not any(o != (lo, hi) and lo <= o[0] and o[1] <= hi for o, _ in loops):  # not a row loop around others
            by_signature[m["signature"]].append(m)
    passes = [min(group, key=lambda m: m["per_element"]) for group in by_signature.values()]
    if not passes:
        return None, None, 0
    vec = [p["per_element"] for p in passes if p["vector"]]
    scalar = [p["per_element"] for p in passes if not p["vector"]]
    return (sum(vec) if vec else None), (sum(scalar) if scalar else None), len(passes)


# ---- budget --------------------------------------------------------------------------------------------------

def read_budget(path):
    rules = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
            if not line:
                continue
            parts = line.split(None, 2)
            if len(parts) < 2:
                sys.exit(f"sass-budget: {path}:{n}: expected 'kernel-pattern limit [reason]'")
            rules.append((parts[0], float(parts[1]), parts[2].strip() if len(parts) > 2 else "", n))
    return rules


def rule_for(kernel, rules):
    for r in rules:
        if fnmatch.fnmatchcase(kernel, r[0]):
            return r
    return None


def self_test():
    """The loop rules on small hand-written listings; run before every check."""
    def listing(name, lines):
        out, addr = [f"//--------------------- .text.{name} --------------------------"], 0
        for line in lines:
            if line.endswith(":"):
                out.append(line)
            else:
                out.append(f"        /*{addr:04x}*/                   {line} ;")
                addr += 16
        return "\n".join(out) + "\n"

    nop = ["FADD R1, R1, R2"] * 6
    sass = listing("unrolled", [  # main loop: 2 float4 per iteration, remainder: 1, scalar fallback
        ".L_a:", "LDG.E.128 R4, [R2.64]", "LDG.E.128 R8, [R2.64+0x10]", *nop, "STG.E.128 [R2.64], R4",
        "STG.E.128 [R2.64+0x10], R8", "@P0 BRA `(.L_a)",
        ".L_b:", "LDG.E.128 R4, [R2.64]", *nop, "STG.E.128 [R2.64], R4", "@P0 BRA `(.L_b)",
        ".L_c:", "LDG.E R4, [R2.64]", *nop, "STG.E [R2.64], R4", "@P1 BRA `(.L_c)", "EXIT"])
    sass += listing("rows", [  # a row loop around a shuffle loop (run-time width) and a data loop, plus partials
        ".L_r:", "LDG.E R4, [R2.64]", ".L_s:", "SHFL.BFLY PT, R5, R4, R6, 0x1f", "@P2 BRA `(.L_s)",
        ".L_d:", "LDS R7, [R8]", "FADD R9, R9, R7", "@P3 BRA `(.L_d)", "STG.E [R2.64], R9", "@P4 BRA `(.L_r)",
        ".L_p:", "LDG.E.64 R10, [R12.64]", "DADD R14, R14, R10", "@P5 BRA `(.L_p)", "EXIT"])
    sass += listing("cold", [  # a loop whose rare case sits after it and jumps back into the middle
        ".L_x:", "LDG.E R4, [R2.64]", "@P0 BRA `(.L_cold)", ".L_back:", "STG.E [R2.64], R4", "@P1 BRA `(.L_x)",
        "EXIT", ".L_cold:", "MUFU.EX2 R4, R4", "BRA `(.L_back)"])
    kernels, labels = kernels_of(sass)
    checks = [
        (kernel_costs(kernels["unrolled"], labels["unrolled"]), (11 / 8, 9.0, 2)),
        (kernel_costs(kernels["rows"], labels["rows"]), (None, 3.0, 1)),
        (kernel_costs(kernels["cold"], labels["cold"]), (None, 7.0, 1)),  # the union, the EXIT between included
    ]
    for got, want in checks:
        if got != want:
            sys.exit(f"sass-budget: self-test failed: {got} != {want}")


def main():
    self_test()
    ap = argparse.ArgumentParser()
    ap.add_argument("--fatbin", required=True)
    ap.add_argument("--nvdisasm", required=True)
    ap.add_argument("--budget", required=True)
    ap.add_argument("--table")
    ap.add_argument("--sass", help="also write the disassembly here")
    args = ap.parse_args()

    blob = open(args.fatbin, "rb").read()
    images = [i for i in elf_images(blob) if cuda_arch(i) == SM]
    if len(images) != 1:
        sys.exit(f"sass-budget: expected one sm_{SM} cubin in {args.fatbin}, found {len(images)}")
    cubin = Cubin(images[0])
    with tempfile.NamedTemporaryFile(suffix=".cubin") as tmp:
        tmp.write(images[0])
        tmp.flush()
        run = subprocess.run([args.nvdisasm, "-c", tmp.name], capture_output=True, text=True)
        if run.returncode != 0 and "architecture information" in run.stderr:
            tmp.seek(0)
            tmp.write(legacy_header(images[0], SM))
            tmp.flush()
            run = subprocess.run([args.nvdisasm, "-c", tmp.name], capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"sass-budget: nvdisasm failed: {run.stderr.strip()}")
    if args.sass:
        open(args.sass, "w").write(run.stdout)
    kernels, labels = kernels_of(run.stdout)
    resources = cubin.resources()
    rules = read_budget(args.budget)

    rows, failures, over = [], [], 0
    for k in sorted(kernels):
        vector, scalar, passes = kernel_costs(kernels[k], labels[k])
        regs, threads, smem = resources.get(k, (0, 1024, 0))
        cost = vector if vector is not None else scalar
        rule = rule_for(k, rules)
        if rule is None:
            failures.append(f"{k}: no line of {args.budget} matches it")
            continue
        pattern, limit, reason, line = rule
        status = "ok"
        if cost is not None and cost > limit:
            over += 1
            if reason:
                status = "over: " + reason
            else:
                status = "OVER"
                failures.append(f"{k}: {cost:.1f} instructions per element > {limit:g} "
                                f"({args.budget}:{line} gives no reason)")
        rows.append((k, vector, scalar, passes, limit, regs, threads, smem, occupancy(regs, threads, smem), status))

    fmt = lambda v: "-" if v is None else f"{v:.1f}"
    lines = ["| kernel | instr/elt (float4 path) | instr/elt (scalar path) | passes | budget | registers | "
             "block | static smem | occupancy | status |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for k, vec, sc, p, lim, r, t, s, occ, st in rows:
        lines.append(f"| {k} | {fmt(vec)} | {fmt(sc)} | {p} | {lim:g} | {r} | {t} | {s} | {occ:.0%} | {st} |")
    table = "\n".join(lines) + "\n"
    if args.table:
        open(args.table, "w").write(table)
    for k, vec, sc, p, lim, r, t, s, occ, st in rows:
        if st != "ok":
            print(f"sass-budget: {k}: {fmt(vec if vec is not None else sc)} > {lim:g} per element, {st}")
    print(f"sass-budget: {len(rows)} kernels, {over} over budget, {len(failures)} failures")
    for f in failures:
        print("sass-budget: FAIL: " + f, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
