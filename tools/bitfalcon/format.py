"""Reader and writer of the BitFalcon model file (`.bfm`), version 1 (with the multi-ternary
CONV extension: n_terms 1..5 weight planes).

The layout is defined in docs/model-format.md; this module follows it field by
field. numpy only (no torch), so the integer simulation runs anywhere numpy does.

    m = read_model("models/bitfalcon-v8n.bfm")       # validates everything, CRC included
    w = m.tensor_array(layer.tensors[0])              # numpy view of a tensor's data
    write_model(m, "copy.bfm")
    write_model(m, "small.bfm", compress=True)       # one zstd frame holding the same file

A file may be stored as a single zstd frame whose content is the .bfm (docs/model-format.md,
"Compressed models"); `parse` and `read_model` inflate it (python3-zstandard) before parsing.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

MAGIC = b"BFLC"
VERSION = 1
BYTE_ORDER = 0x01020304
HEADER_SIZE = 64
TENSOR_ENTRY = 128
VALUE_ENTRY = 32
LAYER_ENTRY = 144
OUTPUT_ENTRY = 16
ALIGN = 64
NONE = 0xFFFFFFFF
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
ZSTD_LEVEL = 19
MAX_MODEL_BYTES = 256 << 20          # the C loader's cap (src/core/model.h), inflated size included

# dtypes
I8, U8, I32, F32, T2 = 1, 2, 3, 4, 5
DTYPE_SIZE = {I8: 1, U8: 1, I32: 4, F32: 4, T2: 1}
DTYPE_NP = {I8: np.int8, U8: np.uint8, I32: np.int32, F32: np.float32, T2: np.uint8}
DTYPE_NAME = {I8: "I8", U8: "U8", I32: "I32", F32: "F32", T2: "T2"}

# ops
CONV, ADD, CONCAT, SLICE, MAXPOOL, UPSAMPLE = 1, 2, 3, 4, 5, 6
OP_NAME = {CONV: "CONV", ADD: "ADD", CONCAT: "CONCAT", SLICE: "SLICE", MAXPOOL: "MAXPOOL",
           UPSAMPLE: "UPSAMPLE"}

# conv activations
ACT_LINEAR, ACT_SILU, ACT_RAW = 0, 1, 2

# CONV n_terms: k balanced-ternary weight planes, integer weights in [-L, L], L = (3^k - 1) / 2
MAX_TERMS = 5

# output kinds
KIND_BOX, KIND_CLASS = 0, 1

_HEADER = struct.Struct("<4sIIIQIIIIIIIIQ")
_TENSOR = struct.Struct("<64sII4IQQ24s")
_VALUE = struct.Struct("<IIifII8s")
_LAYER = struct.Struct("<II8III16i8I")
_OUTPUT = struct.Struct("<IIII")
assert _HEADER.size == HEADER_SIZE and _TENSOR.size == TENSOR_ENTRY
assert _VALUE.size == VALUE_ENTRY and _LAYER.size == LAYER_ENTRY and _OUTPUT.size == OUTPUT_ENTRY


class FormatError(ValueError):
    """The file is malformed, corrupt or violates the contract."""


@dataclass
class Tensor:
    name: str
    dtype: int
    dims: Tuple[int, ...]          # used dims only (1..4 of them)
    data: bytes

    @property
    def nbytes(self) -> int:
        return len(self.data)

    def array(self) -> np.ndarray:
        """The data as a numpy array of shape `dims` (read-only view)."""
        return np.frombuffer(self.data, dtype=np.dtype(DTYPE_NP[self.dtype]).newbyteorder("<"),
                             ).reshape(self.dims)


@dataclass
class Value:
    channels: int
    stride: int
    zero_point: int
    scale: float
    dtype: int
    producer: int                  # NONE for value 0


@dataclass
class Layer:
    op: int
    inputs: List[int]
    output: int
    params: List[int] = field(default_factory=lambda: [0] * 16)
    tensors: List[int] = field(default_factory=list)   # only the used prefix/slots; NONE for gaps

    def __post_init__(self) -> None:
        self.params = [int(p) for p in self.params] + [0] * (16 - len(self.params))
        if len(self.params) != 16:
            raise ValueError("a layer has 16 params")


@dataclass
class Output:
    value: int
    kind: int
    stride: int
    dequant: int


@dataclass
class Model:
    num_classes: int
    reg_max: int
    default_input_size: int
    tensors: List[Tensor] = field(default_factory=list)
    values: List[Value] = field(default_factory=list)
    layers: List[Layer] = field(default_factory=list)
    outputs: List[Output] = field(default_factory=list)
    flags: int = 0

    # -- convenience -------------------------------------------------------------------------
    def tensor_index(self, name: str) -> int:
        for i, t in enumerate(self.tensors):
            if t.name == name:
                return i
        raise KeyError(name)

    def tensor_array(self, index: int) -> np.ndarray:
        return self.tensors[index].array()

    def add_tensor(self, name: str, dtype: int, array: np.ndarray, dims: Optional[Sequence[int]] = None) -> int:
        """Appends a tensor; `array` is converted to the dtype's little-endian bytes."""
        a = np.ascontiguousarray(np.asarray(array).astype(np.dtype(DTYPE_NP[dtype]).newbyteorder("<")))
        if dims is None:
            dims = a.shape if a.ndim > 0 else (1,)
        self.tensors.append(Tensor(name, dtype, tuple(int(d) for d in dims), a.tobytes()))
        return len(self.tensors) - 1

    def class_names(self) -> List[str]:
        raw = self.tensors[self.tensor_index("meta.class_names")].data.decode("ascii")
        names = raw.split("\n")
        assert names[-1] == ""
        return names[:-1]


# ---------------------------------------------------------------------------------------------
# ternary packing

def t2_row_bytes(k: int) -> int:
    """Bytes per packed row: K padded with zero weights to a multiple of 64, 4 weights a byte."""
    return (k + 63) // 64 * 16


def pack_t2(w: np.ndarray) -> np.ndarray:
    """Packs ternary weights [out_c, K] (values -1, 0, +1) into uint8 [out_c, row_bytes]."""
    w = np.asarray(w)
    if w.ndim != 2:
        raise ValueError("pack_t2 wants [out_c, K]")
    if not np.all((w == -1) | (w == 0) | (w == 1)):
        raise ValueError("weights must be -1, 0 or +1")
    n, k = w.shape
    rb = t2_row_bytes(k)
    codes = np.zeros((n, rb * 4), dtype=np.uint8)
    codes[:, :k] = np.where(w > 0, 1, np.where(w < 0, 2, 0)).astype(np.uint8)
    c = codes.reshape(n, rb, 4)
    return (c[:, :, 0] | (c[:, :, 1] << 2) | (c[:, :, 2] << 4) | (c[:, :, 3] << 6)).astype(np.uint8)


def unpack_t2(packed: np.ndarray, k: int, check: bool = True) -> np.ndarray:
    """Unpacks uint8 [out_c, row_bytes] into int8 [out_c, K]. With `check`, refuses code 11
    anywhere and non-zero padding weights (as the C loader does)."""
    p = np.asarray(packed, dtype=np.uint8)
    n, rb = p.shape
    codes = np.stack([(p >> (2 * j)) & 3 for j in range(4)], axis=2).reshape(n, rb * 4)
    if check:
        if np.any(codes == 3):
            raise FormatError("T2 weights contain the invalid code 11")
        if np.any(codes[:, k:] != 0):
            raise FormatError("T2 padding weights are not zero")
    codes = codes[:, :k].astype(np.int8)
    return ((codes & 1) - (codes >> 1)).astype(np.int8)


def term_levels(k: int) -> int:
    """L = (3^k - 1) / 2: a k-term (multi-ternary) layer's integer weights lie in [-L, L]."""
    return (3 ** int(k) - 1) // 2


def ternary_planes(q: np.ndarray, k: int) -> np.ndarray:
    """The k balanced-ternary digit planes of integer weights q (any shape, values in [-L, L]):
    int8 [k, *q.shape] in {-1, 0, 1} with q = sum_i 3^i * planes[i] (least significant first;
    the decomposition is unique)."""
    if not 1 <= int(k) <= MAX_TERMS:
        raise ValueError(f"n_terms {k} not in 1..{MAX_TERMS}")
    r = np.asarray(q, dtype=np.int64)
    lv = term_levels(k)
    if r.size and (r.min() < -lv or r.max() > lv):
        raise ValueError(f"weights outside [-{lv}, {lv}] for n_terms {k}")
    planes = np.empty((int(k),) + r.shape, dtype=np.int8)
    for i in range(int(k)):
        d = (r + 1) % 3 - 1                   # r mod 3 as -1, 0 or 1
        planes[i] = d
        r = (r - d) // 3
    assert not np.any(r), "balanced-ternary decomposition left a remainder"
    return planes


def pack_t2_planes(q: np.ndarray, k: int) -> np.ndarray:
    """Packs integer weights [out_c, K] in [-L, L] as the file's k planes: uint8
    [k * out_c, row_bytes], plane i (rows i*out_c .. (i+1)*out_c - 1) packed like pack_t2.
    For k = 1 this is exactly pack_t2(q)."""
    planes = ternary_planes(q, k)
    return np.concatenate([pack_t2(p) for p in planes], axis=0)


def unpack_t2_planes(packed: np.ndarray, k: int, kk: int, check: bool = True) -> np.ndarray:
    """Inverse of pack_t2_planes: uint8 [k * out_c, row_bytes] -> int32 q [out_c, kk] with
    q = sum_i 3^i * plane_i."""
    p = np.asarray(packed, dtype=np.uint8)
    if p.shape[0] % int(k):
        raise FormatError(f"{p.shape[0]} weight rows are not n_terms {k} planes")
    n = p.shape[0] // int(k)
    q = np.zeros((n, kk), dtype=np.int32)
    for i in range(int(k)):
        q += np.int32(3 ** i) * unpack_t2(p[i * n:(i + 1) * n], kk, check).astype(np.int32)
    return q


# ---------------------------------------------------------------------------------------------
# writing

def _align(x: int) -> int:
    return (x + ALIGN - 1) // ALIGN * ALIGN


def _name_bytes(name: str) -> bytes:
    b = name.encode("ascii")
    if len(b) > 63 or not all(32 <= c < 127 for c in b):
        raise ValueError(f"bad tensor name {name!r}")
    return b.ljust(64, b"\0")


def serialize(m: Model) -> bytes:
    """The file's bytes, CRC included. Does not validate semantics (call `validate`)."""
    nt, nv, nl, no = len(m.tensors), len(m.values), len(m.layers), len(m.outputs)
    tables_end = HEADER_SIZE + nt * TENSOR_ENTRY + nv * VALUE_ENTRY + nl * LAYER_ENTRY + no * OUTPUT_ENTRY
    offsets = []
    pos = _align(tables_end)
    for t in m.tensors:
        offsets.append(pos)
        pos = _align(pos + t.nbytes)
    data_end = pos if m.tensors else _align(tables_end)
    # CRC right after the last tensor's (aligned) end
    file_size = data_end + 4
    out = bytearray(file_size)
    _HEADER.pack_into(out, 0, MAGIC, VERSION, BYTE_ORDER, HEADER_SIZE, file_size, nt, nv, nl, no,
                      m.num_classes, m.reg_max, m.default_input_size, m.flags, 0)
    p = HEADER_SIZE
    for t, off in zip(m.tensors, offsets):
        dims = list(t.dims) + [1] * (4 - len(t.dims))
        _TENSOR.pack_into(out, p, _name_bytes(t.name), t.dtype, len(t.dims), *dims, off, t.nbytes, b"")
        out[off:off + t.nbytes] = t.data
        p += TENSOR_ENTRY
    for v in m.values:
        _VALUE.pack_into(out, p, v.channels, v.stride, v.zero_point, v.scale, v.dtype, v.producer, b"")
        p += VALUE_ENTRY
    for L in m.layers:
        ins = list(L.inputs) + [NONE] * (8 - len(L.inputs))
        ts = list(L.tensors) + [NONE] * (8 - len(L.tensors))
        params = list(L.params) + [0] * (16 - len(L.params))
        _LAYER.pack_into(out, p, L.op, len(L.inputs), *ins, L.output, 0, *params, *ts)
        p += LAYER_ENTRY
    for o in m.outputs:
        _OUTPUT.pack_into(out, p, o.value, o.kind, o.stride, o.dequant)
        p += OUTPUT_ENTRY
    assert p == tables_end
    struct.pack_into("<I", out, file_size - 4, zlib.crc32(bytes(out[:file_size - 4])) & 0xFFFFFFFF)
    return bytes(out)


def _zstd():
    try:
        import zstandard
    except ImportError as e:
        raise FormatError("zstd-compressed models need python3-zstandard (apt-get install python3-zstandard)") from e
    return zstandard


def compress(data: bytes, level: int = ZSTD_LEVEL) -> bytes:
    """One zstd frame holding `data`, with its content size and a checksum (what the C loader takes)."""
    z = _zstd()
    return z.ZstdCompressor(level=level, write_content_size=True, write_checksum=True).compress(data)


def inflate(data: bytes) -> bytes:
    """`data` itself, or, when it is a zstd frame, its content (checked as the C loader checks it)."""
    if data[:4] != ZSTD_MAGIC:
        return data
    z = _zstd()
    try:
        params = z.get_frame_parameters(data)
    except z.ZstdError as e:
        raise FormatError(f"zstd-compressed model with a malformed frame header: {e}") from e
    if params.content_size in (0, z.CONTENTSIZE_UNKNOWN, z.CONTENTSIZE_ERROR):
        raise FormatError("zstd-compressed model without its size in the frame header")
    if params.content_size > MAX_MODEL_BYTES:
        raise FormatError(f"zstd-compressed model inflates to {params.content_size} bytes, "
                          f"more than the {MAX_MODEL_BYTES >> 20} MB limit")
    try:
        dobj = z.ZstdDecompressor().decompressobj()
        out = dobj.decompress(data)
    except z.ZstdError as e:
        raise FormatError(f"zstd-compressed model is corrupt: {e}") from e
    if not dobj.eof:
        raise FormatError("zstd-compressed model, truncated")
    if dobj.unused_data:
        raise FormatError(f"{len(dobj.unused_data)} bytes after the zstd frame: one frame holding one model "
                          "is expected")
    if len(out) != params.content_size:
        raise FormatError(f"zstd-compressed model inflated to {len(out)} bytes, its header says "
                          f"{params.content_size}")
    return out


def write_model(m: Model, path: str, check: bool = True, compressed: bool = False) -> int:
    """Validates (unless `check` is False) and writes the model; returns the file size.

    With `compressed` the file is one zstd frame (level 19) holding the .bfm.

    The file is replaced atomically: written to a hidden temporary next to it,
    fsync'ed and renamed over it (through a symbolic link, onto its target).
    A program that has the old model open, or opens it while this runs, sees
    the old file or the new one, never a half-written or truncated one.
    """
    if check:
        validate(m)
    data = serialize(m)
    if compressed:
        data = compress(data)
    write_file_atomic(path, data)
    return len(data)


def write_file_atomic(path: str, data: bytes) -> None:
    """Writes data to path by temporary file + fsync + rename (mode 0644)."""
    import os
    import tempfile

    target = os.path.realpath(path) if os.path.islink(path) else path
    folder = os.path.dirname(target) or "."
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(target) + ".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ---------------------------------------------------------------------------------------------
# reading

def parse(data: bytes, check: bool = True) -> Model:
    """Parses the file's bytes (a zstd frame is inflated first); with `check`, validates the whole
    contract (like the C loader)."""
    data = inflate(data)
    if len(data) < HEADER_SIZE + 4:
        raise FormatError("file too small")
    (magic, version, byte_order, header_size, file_size, nt, nv, nl, no, ncls, reg_max,
     def_size, flags, reserved) = _HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise FormatError(f"bad magic {magic!r}")
    if byte_order != BYTE_ORDER:
        raise FormatError(f"bad byte order mark 0x{byte_order:08x}")
    if version != VERSION:
        raise FormatError(f"unsupported version {version}")
    if header_size != HEADER_SIZE:
        raise FormatError(f"bad header size {header_size}")
    if file_size != len(data):
        raise FormatError(f"file_size field {file_size} != real size {len(data)} (truncated?)")
    crc = struct.unpack_from("<I", data, file_size - 4)[0]
    if crc != (zlib.crc32(data[:file_size - 4]) & 0xFFFFFFFF):
        raise FormatError("CRC-32 mismatch (corrupt file)")
    if reserved != 0 or flags != 0:
        raise FormatError("reserved header fields / flags are not zero")
    if not (1 <= nt <= 4096 and 2 <= nv <= 4096 and 1 <= nl <= 4096 and 1 <= no <= 16):
        raise FormatError(f"table counts out of range: {nt} {nv} {nl} {no}")
    tables_end = HEADER_SIZE + nt * TENSOR_ENTRY + nv * VALUE_ENTRY + nl * LAYER_ENTRY + no * OUTPUT_ENTRY
    if tables_end > file_size - 4:
        raise FormatError("tables run past the end of the file")
    m = Model(num_classes=ncls, reg_max=reg_max, default_input_size=def_size, flags=flags)
    p = HEADER_SIZE
    spans = []
    for i in range(nt):
        (name, dtype, ndim, d0, d1, d2, d3, off, nbytes, res) = _TENSOR.unpack_from(data, p)
        p += TENSOR_ENTRY
        raw = name.split(b"\0", 1)
        if len(raw) != 2 or raw[1].strip(b"\0") or not raw[0]:
            raise FormatError(f"tensor {i}: name not NUL-terminated/padded")
        if not all(32 <= c < 127 for c in raw[0]):
            raise FormatError(f"tensor {i}: name not printable ASCII")
        if res.strip(b"\0"):
            raise FormatError(f"tensor {i}: reserved bytes not zero")
        if dtype not in DTYPE_SIZE:
            raise FormatError(f"tensor {i}: bad dtype {dtype}")
        if not 1 <= ndim <= 4:
            raise FormatError(f"tensor {i}: bad ndim {ndim}")
        dims = (d0, d1, d2, d3)
        if any(d < 1 for d in dims[:ndim]) or any(d != 1 for d in dims[ndim:]):
            raise FormatError(f"tensor {i}: bad dims {dims}")
        if nbytes != int(np.prod(dims[:ndim], dtype=np.int64)) * DTYPE_SIZE[dtype]:
            raise FormatError(f"tensor {i}: nbytes {nbytes} disagrees with dims")
        if off % ALIGN or off < tables_end or off + nbytes > file_size - 4:
            raise FormatError(f"tensor {i}: bad offset {off}")
        spans.append((off, off + nbytes, i))
        m.tensors.append(Tensor(raw[0].decode("ascii"), dtype, tuple(dims[:ndim]),
                                bytes(data[off:off + nbytes])))
    spans.sort()
    for a, b in zip(spans, spans[1:]):
        if b[0] < a[1]:
            raise FormatError(f"tensors {a[2]} and {b[2]} overlap")
    for i in range(nv):
        (ch, stride, zp, scale, dtype, producer, res) = _VALUE.unpack_from(data, p)
        p += VALUE_ENTRY
        if res.strip(b"\0"):
            raise FormatError(f"value {i}: reserved bytes not zero")
        m.values.append(Value(ch, stride, zp, scale, dtype, producer))
    for i in range(nl):
        f = _LAYER.unpack_from(data, p)
        p += LAYER_ENTRY
        op, n_in = f[0], f[1]
        ins = list(f[2:10])
        output, res = f[10], f[11]
        params = list(f[12:28])
        ts = list(f[28:36])
        if not 1 <= n_in <= 8:
            raise FormatError(f"layer {i}: bad n_inputs {n_in}")
        if any(x != NONE for x in ins[n_in:]) or res != 0:
            raise FormatError(f"layer {i}: unused inputs / reserved not cleared")
        while ts and ts[-1] == NONE:
            ts.pop()
        m.layers.append(Layer(op, ins[:n_in], output, params, ts))
    for i in range(no):
        m.outputs.append(Output(*_OUTPUT.unpack_from(data, p)))
        p += OUTPUT_ENTRY
    if check:
        validate(m)
    return m


def read_model(path: str, check: bool = True) -> Model:
    with open(path, "rb") as f:
        return parse(f.read(), check=check)


# ---------------------------------------------------------------------------------------------
# semantic validation (shared by reader and writer)

def _conv_out(h: int, k: int, s: int, p: int) -> int:
    return (h + 2 * p - k) // s + 1


def validate(m: Model) -> None:
    """Checks the graph and quantization parameters as the C loader does; raises FormatError."""
    def fail(msg: str) -> None:
        raise FormatError(msg)

    nt, nv = len(m.tensors), len(m.values)
    if not (1 <= m.num_classes <= 1000):
        fail("num_classes out of range")
    if m.default_input_size <= 0 or m.default_input_size % 32:
        fail("default_input_size must be a positive multiple of 32")
    names = set()
    for t in m.tensors:
        if t.name in names:
            fail(f"duplicate tensor name {t.name}")
        names.add(t.name)
        if t.dtype == T2:
            unpack_t2(t.array(), t.dims[1] * 4, check=True)  # no code 11 anywhere
    if "meta.class_names" not in names:
        fail("missing meta.class_names")
    cn = m.tensors[m.tensor_index("meta.class_names")]
    if cn.dtype != U8 or len(cn.dims) != 1:
        fail("meta.class_names must be U8 [nbytes]")
    if not cn.data.endswith(b"\n") or cn.data.count(b"\n") != m.num_classes or \
            not all(32 <= c < 127 for c in cn.data.replace(b"\n", b"")):
        fail("meta.class_names must hold num_classes printable names each ending in \\n")
    v0 = m.values[0]
    if (v0.channels, v0.stride, v0.zero_point, v0.dtype, v0.producer) != (3, 1, -128, I8, NONE) or \
            abs(v0.scale - 1 / 255) > 1e-9:
        fail("value 0 must be the 3-channel input, stride 1, zp -128, scale 1/255, I8")
    for i, v in enumerate(m.values[1:], 1):
        if v.zero_point != 0:
            fail(f"value {i}: zero_point must be 0")
        if v.dtype not in (I8, I32):
            fail(f"value {i}: bad dtype")
        if v.stride not in (1, 2, 4, 8, 16, 32):
            fail(f"value {i}: bad stride {v.stride}")
    produced: Dict[int, int] = {}

    def tens(L: Layer, slot: int, dtype: int, dims: Tuple[int, ...], li: int) -> Tensor:
        if slot >= len(L.tensors) or L.tensors[slot] == NONE or L.tensors[slot] >= nt:
            fail(f"layer {li}: tensor slot {slot} missing")
        t = m.tensors[L.tensors[slot]]
        if t.dtype != dtype or tuple(t.dims) != tuple(dims):
            fail(f"layer {li}: tensor {t.name} has dtype/dims {t.dtype}/{t.dims}, want {dtype}/{dims}")
        return t

    for li, L in enumerate(m.layers):
        for x in L.inputs:
            if x >= nv or (x != 0 and x not in produced):
                fail(f"layer {li}: input value {x} not produced earlier")
        if L.output == 0 or L.output >= nv or L.output in produced:
            fail(f"layer {li}: bad or doubly produced output value {L.output}")
        out = m.values[L.output]
        if out.producer != li:
            fail(f"layer {li}: output value's producer field is {out.producer}")
        ins = [m.values[x] for x in L.inputs]
        if any(v.dtype != I8 for v in ins):
            fail(f"layer {li}: inputs must be I8")
        P = L.params
        if L.op == CONV:
            if len(ins) != 1:
                fail(f"layer {li}: CONV takes one input")
            kh, kw, s, pad, ic, oc, act, nterms = P[:8]
            if min(kh, kw, s, ic, oc) < 1 or pad < 0 or act not in (0, 1, 2):
                fail(f"layer {li}: bad CONV params {P[:8]}")
            if not 1 <= nterms <= MAX_TERMS:
                fail(f"layer {li}: n_terms {nterms} outside 1..{MAX_TERMS}")
            if ic != ins[0].channels:
                fail(f"layer {li}: in_c {ic} != input channels {ins[0].channels}")
            if any(P[8:]):
                fail(f"layer {li}: unused CONV params not zero")
            for kk in (kh, kw):   # H / stride outputs for every H that is a multiple of the stride
                if not (kk - s <= 2 * pad <= kk - 1):
                    fail(f"layer {li}: kernel {kk}, stride {s}, pad {pad} do not give input/stride outputs")
            k = kh * kw * ic

            def slot(j: int) -> int:
                return L.tensors[j] if j < len(L.tensors) else NONE

            wt = tens(L, 0, T2, (nterms * oc, t2_row_bytes(k)), li)      # n_terms planes of out_c rows
            unpack_t2(wt.array(), k, check=True)                            # padding weights are zero
            bias = tens(L, 1, I32, (oc,), li).array().astype(np.int64)
            reach = 128 * k * term_levels(nterms)                           # |acc - bias| <= 128 K L
            if np.any(bias + reach > 2**31 - 1) or np.any(bias - reach < -2**31):
                fail(f"layer {li}: bias lets the int32 accumulator overflow (n_terms {nterms})")
            # mult/shift drive requant: required unless the conv is raw (then optional)
            for j in (2, 3):
                if act != ACT_RAW or slot(j) != NONE:
                    a = tens(L, j, I32, (oc,), li).array()
                    if np.any(a < 0) or (j == 3 and np.any(a > 62)):
                        fail(f"layer {li}: mult/shift out of range")
            if act == ACT_SILU:
                tens(L, 4, I8, (256,), li)
            elif slot(4) != NONE:
                fail(f"layer {li}: SiLU table given for activation {act}")
            if act == ACT_RAW:
                tens(L, 5, F32, (oc,), li)
            elif slot(5) != NONE:
                fail(f"layer {li}: dequant given for activation {act}")
            if slot(6) != NONE or slot(7) != NONE:
                fail(f"layer {li}: unused tensor slots 6, 7 must be NONE")
            if out.dtype != (I32 if act == ACT_RAW else I8):
                fail(f"layer {li}: conv output dtype {out.dtype} wrong for activation {act}")
            want = (oc, ins[0].stride * s)
        elif L.op == ADD:
            if len(ins) != 2 or ins[0].channels != ins[1].channels or ins[0].stride != ins[1].stride:
                fail(f"layer {li}: ADD wants two inputs of the same shape")
            if P[0] < 0 or P[1] < 0 or not 0 <= P[2] <= 62:
                fail(f"layer {li}: ADD params out of range")
            want = (ins[0].channels, ins[0].stride)
        elif L.op == CONCAT:
            if not 2 <= len(ins) <= 8 or len({v.stride for v in ins}) != 1:
                fail(f"layer {li}: CONCAT wants 2..8 inputs of one spatial size")
            for j in range(len(ins)):
                if P[2 * j] < 0 or not 0 <= P[2 * j + 1] <= 62:
                    fail(f"layer {li}: CONCAT mult/shift {j} out of range")
            want = (sum(v.channels for v in ins), ins[0].stride)
        elif L.op == SLICE:
            if len(ins) != 1 or P[0] < 0 or P[1] < 1 or P[0] + P[1] > ins[0].channels:
                fail(f"layer {li}: bad SLICE")
            want = (P[1], ins[0].stride)
        elif L.op == MAXPOOL:
            k, s, pad = P[:3]
            if len(ins) != 1 or k < 1 or s < 1 or pad < 0 or pad > k // 2:
                fail(f"layer {li}: bad MAXPOOL")
            want = (ins[0].channels, ins[0].stride * s)
        elif L.op == UPSAMPLE:
            f = P[0]
            if len(ins) != 1 or f < 1 or ins[0].stride % f:
                fail(f"layer {li}: bad UPSAMPLE")
            want = (ins[0].channels, ins[0].stride // f)
        else:
            fail(f"layer {li}: unknown op {L.op}")
        if (out.channels, out.stride) != want:
            fail(f"layer {li}: output value has channels/stride {(out.channels, out.stride)}, want {want}")
        if L.op in (SLICE, MAXPOOL, UPSAMPLE) and out.scale != ins[0].scale:
            fail(f"layer {li}: {OP_NAME[L.op]} must keep its input's scale")
        produced[L.output] = li
    for i in range(1, nv):
        if i not in produced:
            fail(f"value {i} has no producer")
    if len(m.outputs) % 2:
        fail("outputs must come in (box, class) pairs")
    last = 0
    for j, o in enumerate(m.outputs):
        if o.value >= nv or m.values[o.value].dtype != I32:
            fail(f"output {j}: not an I32 value")
        if o.kind != j % 2:
            fail(f"output {j}: kind {o.kind}, want {j % 2} (box, class pairs)")
        v = m.values[o.value]
        if o.stride != v.stride or o.stride not in (8, 16, 32):
            fail(f"output {j}: stride {o.stride} vs value stride {v.stride}")
        if j % 2 == 0:
            if o.stride <= last:
                fail("outputs must be in increasing stride order")
            last = o.stride
        elif o.stride != m.outputs[j - 1].stride:
            fail(f"output {j}: pair strides differ")
        want_c = 4 * m.reg_max if o.kind == KIND_BOX else m.num_classes
        if v.channels != want_c:
            fail(f"output {j}: {v.channels} channels, want {want_c}")
        if o.dequant >= nt or m.tensors[o.dequant].dtype != F32 or m.tensors[o.dequant].dims != (v.channels,):
            fail(f"output {j}: bad dequant tensor")


def summary(m: Model) -> str:
    """A human-readable listing (for debugging)."""
    lines = [f"classes {m.num_classes} reg_max {m.reg_max} size {m.default_input_size} "
             f"tensors {len(m.tensors)} values {len(m.values)} layers {len(m.layers)} outputs {len(m.outputs)}"]
    for i, L in enumerate(m.layers):
        v = m.values[L.output]
        lines.append(f"{i:3d} {OP_NAME.get(L.op, L.op):8s} in {L.inputs} -> v{L.output} "
                     f"c{v.channels} /{v.stride} scale {v.scale:.5g} params {L.params[:8]}")
    return "\n".join(lines)
