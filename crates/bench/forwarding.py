#!/usr/bin/env python3
"""Finds the loads of a lifecycle that the CPU cannot forward from recent stores.

    crates/bench/forwarding.py [BINARY] [STACK] [LIFECYCLES] [WINDOW]

Runs BINARY (default target/release/examples/lifecycles) on STACK (default synack) for
LIFECYCLES (default 300) under valgrind's lackey tool, which traces every instruction, load
and store in order, then replays the trace: a load whose bytes come partly from a store among
those of the last WINDOW instructions (default 100), and not all from one such store, is one
that store-to-load forwarding cannot serve. It waits until those stores reach the cache.
Typical causes: a struct written field by field and then copied in 16-byte words, or an
`IpAddr` whose 4-byte IPv4 payload was just stored, copied in 8-byte words.

Prints, for each such load executed at least once per lifecycle: its address in BINARY, how
many times per lifecycle, the function and the source line (addr2line). A static count,
not a timing: whether a wait costs time depends on what else the CPU has to do meanwhile.
Needs valgrind and binutils; valgrind loads a position-independent executable at 0x108000.
"""
import collections
import os
import subprocess
import sys
import tempfile

VALGRIND_PIE_BASE = 0x108000


def trace(binary, stack, lifecycles, path):
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary}: not an executable (cargo build --release -p synack-bench --example lifecycles)")
    cmd = ["valgrind", "--tool=lackey", "--trace-mem=yes", f"--log-file={path}", binary, stack, str(lifecycles)]
    try:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except FileNotFoundError:
        sys.exit("valgrind not found (apt install valgrind)")
    except subprocess.CalledProcessError as e:
        sys.exit(f"{' '.join(cmd[4:])} failed under valgrind (exit {e.returncode})")


def unforwardable(path, window):
    """Instruction address -> count of loads that mix bytes of several recent stores (or of a
    recent store and the cache)."""
    stores = collections.deque()  # (instruction number, address, size)
    n, pc, found = 0, 0, collections.Counter()
    with open(path) as f:
        for line in f:
            if line.startswith("I"):
                n += 1
                pc = int(line[3 : line.index(",")], 16)
                while stores and stores[0][0] < n - window:
                    stores.popleft()
                continue
            kind = line[:2]
            if kind not in (" L", " S", " M"):
                continue
            addr, size = line[3:].split(",")
            addr, size = int(addr, 16), int(size)
            if kind != " S":
                # The youngest recent store that wrote each byte of the load, if any.
                sources = set()
                for byte in range(addr, addr + size):
                    sources.add(next((k for k in range(len(stores) - 1, -1, -1)
                                      if stores[k][1] <= byte < stores[k][1] + stores[k][2]), None))
                if sources != {None} and len(sources) > 1:
                    found[pc] += 1
            if kind != " L":
                stores.append((n, addr, size))
    return found


def where(binary, offset):
    out = subprocess.run(["addr2line", "-f", "-C", "-i", "-e", binary, hex(offset)],
                         capture_output=True, text=True).stdout.splitlines()
    function = out[0] if out else "?"
    line = out[-1].split("/src/")[-1] if out else "?"
    return function, line


def main():
    args = sys.argv[1:]
    binary = args[0] if len(args) > 0 else "target/release/examples/lifecycles"
    stack = args[1] if len(args) > 1 else "synack"
    lifecycles = int(args[2]) if len(args) > 2 else 300
    window = int(args[3]) if len(args) > 3 else 100
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "lackey.txt")
        trace(binary, stack, lifecycles, path)
        found = unforwardable(path, window)
    total = 0.0
    for pc, count in found.most_common():
        per_lifecycle = count / lifecycles
        if per_lifecycle < 0.99:
            break
        total += per_lifecycle
        offset = pc - VALGRIND_PIE_BASE
        function, line = where(binary, offset)
        print(f"{offset:8x} {per_lifecycle:5.1f}  {function[:70]}  {line}")
    print(f"{total:.0f} such loads per lifecycle (window {window} instructions)")


if __name__ == "__main__":
    main()
