"""The screenshots the camera window tests take (SDL_SaveBMP), read back without PIL:
shared by tests/camera/camera_tests.py and tests/video/video_tests.py."""


def read_bmp(path):
    """(width, height, rows of (r, g, b)) of a 24/32-bit uncompressed BMP, as SDL_SaveBMP writes.
    ValueError for anything else."""
    import struct
    b = open(path, "rb").read()
    if b[:2] != b"BM":
        raise ValueError("%s is not a BMP" % path)
    off, = struct.unpack_from("<I", b, 10)
    w, h, _, bpp, comp = struct.unpack_from("<iiHHI", b, 18)
    if bpp not in (24, 32) or comp not in (0, 3):
        raise ValueError("unexpected BMP format %d bpp, compression %d" % (bpp, comp))
    step = bpp // 8
    stride = (w * step + 3) & ~3
    rows = []
    for y in range(abs(h)):
        src = y if h < 0 else abs(h) - 1 - y
        r = b[off + src * stride: off + src * stride + w * step]
        rows.append([(r[i + 2], r[i + 1], r[i]) for i in range(0, w * step, step)])
    return w, abs(h), rows
