#!/usr/bin/python3
"""format.py round trip: write a small random model, read it back, compare; a flipped byte
must fail the CRC, a truncated file must fail; T2 packing matches the doc's bit layout."""
from __future__ import annotations

import os
import sys
import tempfile

from _setup import need

need("numpy")
import numpy as np  # noqa: E402

from bitfalcon import format as bfm  # noqa: E402


def small_model(rng: np.random.Generator) -> bfm.Model:
    """input -> conv3x3 s2 (SiLU) -> slice -> conv1x1 s1 silu -> add -> concat -> maxpool ->
    upsample -> conv s2 raw (box) / conv s2 raw (cls) ... a tiny legal graph at strides 8."""
    ncls, reg = 3, 2
    m = bfm.Model(num_classes=ncls, reg_max=reg, default_input_size=64)
    m.add_tensor("meta.class_names", bfm.U8, np.frombuffer(b"a\nbb\nccc\n", np.uint8))
    m.values.append(bfm.Value(3, 1, -128, 1 / 255, bfm.I8, bfm.NONE))

    def value(c, s, dtype=bfm.I8, scale=0.05):
        m.values.append(bfm.Value(c, s, 0, scale, dtype, len(m.layers)))
        return len(m.values) - 1

    def conv(vin, oc, k, s, act, name):
        ic = m.values[vin].channels
        K = k * k * ic
        w = rng.integers(-1, 2, size=(oc, K))
        ts = [m.add_tensor(name + ".w", bfm.T2, bfm.pack_t2(w)),
              m.add_tensor(name + ".b", bfm.I32, rng.integers(-1000, 1000, oc)),
              m.add_tensor(name + ".m", bfm.I32, rng.integers(1 << 30, 1 << 31, oc)),
              m.add_tensor(name + ".s", bfm.I32, rng.integers(30, 40, oc))]
        if act == 1:
            ts.append(m.add_tensor(name + ".silu", bfm.I8, rng.integers(-128, 128, 256)))
        else:
            ts += [bfm.NONE, m.add_tensor(name + ".dq", bfm.F32, rng.random(oc).astype(np.float32))]
        out = value(oc, m.values[vin].stride * s, bfm.I32 if act == 2 else bfm.I8)
        m.layers.append(bfm.Layer(bfm.CONV, [vin], out, [k, k, s, k // 2, ic, oc, act, 1], ts))
        return out

    def op(o, ins, c, s, params):
        out = value(c, s)
        m.layers.append(bfm.Layer(o, ins, out, list(params) + [0] * (16 - len(params))))
        return out

    a = conv(0, 8, 3, 2, 1, "c0")                      # /2
    b = conv(a, 8, 3, 2, 1, "c1")                      # /4
    sl = op(bfm.SLICE, [b], 4, 4, [4, 4])
    c = conv(sl, 4, 1, 1, 1, "c2")
    d = op(bfm.ADD, [sl, c], 4, 4, [1 << 30, 3 << 28, 30])
    e = op(bfm.CONCAT, [b, d], 12, 4, [1, 0, 1 << 30, 31])
    f = op(bfm.MAXPOOL, [e], 12, 4, [5, 1, 2])
    m.values[f].scale = m.values[e].scale
    g = conv(f, 8, 3, 2, 1, "c3")                      # /8
    h = conv(g, 8, 3, 2, 1, "c4")                      # /16
    u = op(bfm.UPSAMPLE, [h], 8, 8, [2])
    m.values[u].scale = m.values[h].scale
    cat = op(bfm.CONCAT, [u, g], 16, 8, [1, 0, 1, 0])
    bx = conv(cat, 4 * reg, 1, 1, 2, "box")
    cl = conv(cat, ncls, 1, 1, 2, "cls")
    m.outputs.append(bfm.Output(bx, 0, 8, m.layers[-2].tensors[5]))
    m.outputs.append(bfm.Output(cl, 1, 8, m.layers[-1].tensors[5]))
    return m


def expect_error(data: bytes, what: str) -> None:
    try:
        bfm.parse(data)
    except bfm.FormatError as e:
        print(f"ok: {what} -> {e}")
        return
    raise AssertionError(f"{what}: no error")


def main() -> int:
    rng = np.random.default_rng(1234)

    # T2 bit layout: weight k in bits 2(k%4) of byte k/4; 01 = +1, 10 = -1; rows padded to 64 weights
    p = bfm.pack_t2(np.array([[1, -1, 0, 1, -1]]))
    assert p.shape == (1, 16), p.shape
    assert p[0, 0] == (0b01 | 0b10 << 2 | 0b00 << 4 | 0b01 << 6), bin(p[0, 0])
    assert p[0, 1] == 0b10 and not p[0, 2:].any()
    assert bfm.t2_row_bytes(64) == 16 and bfm.t2_row_bytes(65) == 32 and bfm.t2_row_bytes(27) == 16
    w = rng.integers(-1, 2, size=(7, 131))
    assert np.array_equal(bfm.unpack_t2(bfm.pack_t2(w), 131), w)
    bad = bfm.pack_t2(w)
    bad[0, 0] |= 3
    try:
        bfm.unpack_t2(bad, 131)
        raise AssertionError("code 11 accepted")
    except bfm.FormatError:
        pass

    m = small_model(rng)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "small.bfm")
        n = bfm.write_model(m, path)
        data = open(path, "rb").read()
        assert n == len(data)
        assert data[:4] == b"BFLC" and int.from_bytes(data[16:24], "little") == len(data)
        r = bfm.read_model(path)
        assert (r.num_classes, r.reg_max, r.default_input_size) == (m.num_classes, m.reg_max, m.default_input_size)
        assert len(r.tensors) == len(m.tensors) and len(r.values) == len(m.values)
        for a, b in zip(m.tensors, r.tensors):
            assert (a.name, a.dtype, tuple(a.dims), a.data) == (b.name, b.dtype, tuple(b.dims), b.data), a.name
        for a, b in zip(m.values, r.values):
            assert (a.channels, a.stride, a.zero_point, a.dtype, a.producer) == \
                   (b.channels, b.stride, b.zero_point, b.dtype, b.producer)
            assert np.float32(a.scale) == np.float32(b.scale)
        for a, b in zip(m.layers, r.layers):
            assert (a.op, a.inputs, a.output, list(a.params), list(a.tensors)) == \
                   (b.op, b.inputs, b.output, list(b.params), list(b.tensors)), (a, b)
        assert [(o.value, o.kind, o.stride, o.dequant) for o in m.outputs] == \
               [(o.value, o.kind, o.stride, o.dequant) for o in r.outputs]
        assert r.class_names() == ["a", "bb", "ccc"]
        assert bfm.serialize(r) == data, "re-serialization differs"
        # tensor data 64-byte aligned
        for i in range(len(m.tensors)):
            off = int.from_bytes(data[64 + 128 * i + 88:64 + 128 * i + 96], "little")
            assert off % 64 == 0

        # corruption: every region (header, tables, data, CRC) must fail the CRC check
        for pos in (20, 64 + 5, len(data) // 2, len(data) - 40, len(data) - 2):
            flipped = bytearray(data)
            flipped[pos] ^= 0x10
            expect_error(bytes(flipped), f"byte {pos} flipped")
        expect_error(data[:-1], "truncated by 1 byte")
        expect_error(data[: len(data) // 2], "truncated to half")
        expect_error(data[:40], "truncated to 40 bytes")
        expect_error(b"XXXX" + data[4:], "bad magic")

        # semantic checks with a valid CRC
        import copy
        m2 = copy.deepcopy(m)
        m2.layers[1].inputs = [m2.layers[3].output]       # uses a value produced later
        try:
            bfm.serialize(m2) and bfm.parse(bfm.serialize(m2))
            raise AssertionError("forward reference accepted")
        except bfm.FormatError as e:
            print(f"ok: forward reference -> {e}")
    print("format round trip OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
