# Worker functions for test_multiprocessing.py: importable by name, as spawn and forkserver children need.
_area = None


def keep(area):
    # a Pool initializer: the area comes with the worker's start
    global _area
    _area = area


def incs(args):
    area, pos, n = args
    for _ in range(n):
        area.inc64(pos)
    return area.read(0, 4)


def incs_kept(n):
    for _ in range(n):
        _area.inc64(16)
    return n
