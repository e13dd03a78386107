# ptr= areas: fixed-address memory, through uctypes where the port has it, else machine.mem8 (the
# micro:bit), indexable byte by byte, without slices or the buffer protocol, so the core goes byte by
# byte on it (Mem.ix).
from ..area import fail
from . import Mem


class At:
    def __init__(self, addr, size):
        from machine import mem8
        self.m = mem8
        self.a = addr
        self.n = size

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.m[self.a + i]

    def __setitem__(self, i, v):
        self.m[self.a + i] = v


def ptr(addr, size):
    if not addr:
        fail('null')
    try:
        import uctypes
    except ImportError:
        return Mem(At(addr, size), size, None, True)
    return Mem(uctypes.bytearray_at(addr, size), size)
