#!/usr/bin/python3
"""format.py round trip: write a small random model, read it back, compare; a flipped byte
must fail the CRC, a truncated file must fail; T2 packing matches the doc's bit layout;
multi-ternary (n_terms 1..5) planes, their validation and the integer simulation's conv."""
from __future__ import annotations

import os
import sys
import tempfile

from _setup import need

need("numpy")
import numpy as np  # noqa: E402

from bitfalcon import format as bfm  # noqa: E402


def small_model(rng: np.random.Generator, terms=None) -> bfm.Model:
    """input -> conv3x3 s2 (SiLU) -> slice -> conv1x1 s1 silu -> add -> concat -> maxpool ->
    upsample -> conv s2 raw (box) / conv s2 raw (cls) ... a tiny legal graph at strides 8.
    `terms`: {conv name: n_terms} for multi-ternary convs (integer weights in [-L, L])."""
    terms = terms or {}
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
        nt = terms.get(name, 1)
        lv = bfm.term_levels(nt)
        w = rng.integers(-lv, lv + 1, size=(oc, K))
        ts = [m.add_tensor(name + ".w", bfm.T2, bfm.pack_t2_planes(w, nt)),
              m.add_tensor(name + ".b", bfm.I32, rng.integers(-1000, 1000, oc)),
              m.add_tensor(name + ".m", bfm.I32, rng.integers(1 << 30, 1 << 31, oc)),
              m.add_tensor(name + ".s", bfm.I32, rng.integers(30, 40, oc))]
        if act == 1:
            ts.append(m.add_tensor(name + ".silu", bfm.I8, rng.integers(-128, 128, 256)))
        else:
            ts += [bfm.NONE, m.add_tensor(name + ".dq", bfm.F32, rng.random(oc).astype(np.float32))]
        out = value(oc, m.values[vin].stride * s, bfm.I32 if act == 2 else bfm.I8)
        m.layers.append(bfm.Layer(bfm.CONV, [vin], out, [k, k, s, k // 2, ic, oc, act, nt], ts))
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


def expect_invalid(m: bfm.Model, what: str, cause: str) -> None:
    try:
        bfm.validate(m)
    except bfm.FormatError as e:
        assert cause in str(e), f"{what}: {e}"
        print(f"ok: {what} -> {e}")
        return
    raise AssertionError(f"{what}: accepted")


def multiterm_checks(rng: np.random.Generator) -> None:
    """n_terms 1..5: the balanced-ternary planes, their packing, validation and the integer
    simulation's conv (q folded once) against the per-plane sum the engine computes."""
    import copy
    from bitfalcon.intsim import IntEngine, im2col
    for k in range(1, bfm.MAX_TERMS + 1):
        lv = bfm.term_levels(k)
        assert lv == (3 ** k - 1) // 2
        q = np.arange(-lv, lv + 1)
        p = bfm.ternary_planes(q, k)
        assert p.shape == (k, q.size) and set(np.unique(p)) <= {-1, 0, 1}
        assert np.array_equal(sum(3 ** i * p[i].astype(np.int64) for i in range(k)), q)
        # unique digits: all 3^k digit patterns appear once
        assert len({tuple(col) for col in p.T}) == q.size == 3 ** k
        w = rng.integers(-lv, lv + 1, size=(5, 77))
        packed = bfm.pack_t2_planes(w, k)
        assert packed.shape == (k * 5, bfm.t2_row_bytes(77))
        assert np.array_equal(bfm.unpack_t2_planes(packed, k, 77), w)
        for i in range(k):     # plane i is rows i*out_c .. (i+1)*out_c - 1, packed like pack_t2
            assert np.array_equal(packed[i * 5:(i + 1) * 5], bfm.pack_t2(bfm.ternary_planes(w, k)[i]))
        try:
            bfm.ternary_planes(np.array([lv + 1]), k)
            raise AssertionError("out-of-range weight accepted")
        except ValueError:
            pass
    w = rng.integers(-1, 2, size=(9, 50))
    assert np.array_equal(bfm.pack_t2_planes(w, 1), bfm.pack_t2(w)), "k = 1 must be the plain T2 layout"
    assert list(bfm.ternary_planes(np.array([5, -5, 13, -13, 121]), 5)[:, 0]) == [-1, -1, 1, 0, 0]

    names = {"c0": 3, "c1": 2, "c2": 5, "c4": 4, "box": 3, "cls": 2}
    m = small_model(rng, names)
    data = bfm.serialize(m)
    r = bfm.parse(data)
    assert bfm.serialize(r) == data
    assert [L.params[7] for L in r.layers if L.op == bfm.CONV] == [3, 2, 5, 1, 4, 3, 2]
    # intsim's conv (q folded once) == bias + sum_i 3^i * (im2col x plane_i), in int64
    x = rng.integers(-128, 128, size=(64, 64, 3)).astype(np.int8)
    _, vals = IntEngine(r).run(x, keep_values=True)
    for L in r.layers:
        if L.op != bfm.CONV:
            continue
        kh, kw, s, pad, ic, oc, act, nt = L.params[:8]
        cols, ho, wo = im2col(vals[L.inputs[0]], kh, kw, s, pad, r.values[L.inputs[0]].zero_point)
        wt = r.tensor_array(L.tensors[0])
        acc = r.tensor_array(L.tensors[1]).astype(np.int64) + sum(
            3 ** i * (cols.astype(np.int64) @ bfm.unpack_t2(wt[i * oc:(i + 1) * oc], kh * kw * ic).T.astype(np.int64))
            for i in range(nt))
        if act == bfm.ACT_RAW:
            assert np.array_equal(vals[L.output].reshape(-1, oc), acc), "raw conv differs"
        else:
            from bitfalcon.intsim import requant
            pq = requant(acc, r.tensor_array(L.tensors[2]), r.tensor_array(L.tensors[3]))
            if act == bfm.ACT_SILU:
                pq = r.tensor_array(L.tensors[4]).astype(np.int64)[pq + 128]
            assert np.array_equal(vals[L.output].reshape(-1, oc), pq), "conv differs"

    ci = [i for i, L in enumerate(m.layers) if L.op == bfm.CONV]
    for bad_k in (0, 6):
        m2 = copy.deepcopy(m)
        m2.layers[ci[0]].params[7] = bad_k
        expect_invalid(m2, f"n_terms {bad_k}", f"n_terms {bad_k} outside 1..5")
    m2 = copy.deepcopy(m)
    m2.layers[ci[0]].params[7] = 2                  # 3 planes stored, 2 declared
    expect_invalid(m2, "weights rows != n_terms x out_c", "has dtype/dims")
    m2 = copy.deepcopy(m)
    m2.layers[ci[3]].params[7] = 2                  # plain ternary weights declared as 2 planes
    expect_invalid(m2, "1 plane read as 2", "has dtype/dims")
    # bias: the bound is 128 * K * L (L = 121 for c2, a 1x1 conv with K = 4)
    L2 = m.layers[ci[2]]
    K2 = L2.params[4]
    assert (L2.params[0], L2.params[7]) == (1, 5)
    for b, ok in ((2**31 - 1 - 128 * K2 * 121, True), (2**31 - 128 * K2 * 121, False),
                  (-2**31 + 128 * K2 * 121, True), (-2**31 + 128 * K2 * 121 - 1, False)):
        m2 = copy.deepcopy(m)
        bias = m2.tensor_array(L2.tensors[1]).astype(np.int64).copy()
        bias[0] = b
        m2.tensors[L2.tensors[1]] = bfm.Tensor(m2.tensors[L2.tensors[1]].name, bfm.I32, (len(bias),),
                                               bias.astype("<i4").tobytes())
        if ok:
            bfm.validate(m2)
        else:
            expect_invalid(m2, f"bias {b} with n_terms 5", "overflow (n_terms 5)")
    # a non-zero padding weight in the last plane
    m2 = copy.deepcopy(m)
    t = m2.tensors[m2.layers[ci[0]].tensors[0]]
    raw = bytearray(t.data)
    rb = t.dims[1]
    raw[(t.dims[0] - 1) * rb + rb - 1] = 0x40
    m2.tensors[m2.layers[ci[0]].tensors[0]] = bfm.Tensor(t.name, t.dtype, t.dims, bytes(raw))
    expect_invalid(m2, "padding weight in plane 2", "padding")
    print("multi-ternary checks OK")


def main() -> int:
    rng = np.random.default_rng(1234)
    multiterm_checks(np.random.default_rng(99))

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
        # Replaced atomically (a new inode; a reader of the old file keeps the
        # old bytes), through a symlink onto its target, with no temporary left.
        old_ino = os.stat(path).st_ino
        reader = open(path, "rb")
        os.symlink("small.bfm", os.path.join(d, "link.bfm"))
        m.default_input_size = 320
        bfm.write_model(m, os.path.join(d, "link.bfm"))
        assert os.path.islink(os.path.join(d, "link.bfm")), "the symlink was replaced"
        assert os.stat(path).st_ino != old_ino, "written in place, not renamed over"
        assert reader.read() == data, "the old file changed under its reader"
        reader.close()
        assert bfm.read_model(path).default_input_size == 320
        assert (os.stat(path).st_mode & 0o777) == 0o644
        assert sorted(os.listdir(d)) == ["link.bfm", "small.bfm"], os.listdir(d)
        m.default_input_size = r.default_input_size
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
