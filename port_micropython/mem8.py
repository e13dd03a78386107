# Fixed-address memory through machine.mem8, for ports without uctypes (the micro:bit): indexable byte by
# byte, without slices or the buffer protocol, so the core goes byte by byte on it (mem.ix).
from machine import mem8


class At:
    def __init__(self, addr, size):
        self.a = addr
        self.n = size

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return mem8[self.a + i]

    def __setitem__(self, i, v):
        mem8[self.a + i] = v
