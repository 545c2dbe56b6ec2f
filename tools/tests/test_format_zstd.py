#!/usr/bin/python3
"""format.py and zstd-compressed models (docs/model-format.md, "Compressed models"): a model
written with compressed=True is one zstd frame with its content size that reads back to the
same model and inflates to exactly the plain file; frames the C loader refuses (truncated,
trailing bytes, no content size, a corrupt inner file) are refused here too."""
from __future__ import annotations

import os
import sys
import tempfile

from _setup import need

need("numpy", "zstandard")
import numpy as np  # noqa: E402
import zstandard  # noqa: E402

from bitfalcon import format as bfm  # noqa: E402
from test_format import expect_error, small_model  # noqa: E402


def main() -> int:
    rng = np.random.default_rng(7)
    m = small_model(rng, {"c0": 3, "c1": 2})
    plain = bfm.serialize(m)
    with tempfile.TemporaryDirectory() as tmp:
        p_plain = os.path.join(tmp, "plain.bfm")
        p_packed = os.path.join(tmp, "packed.bfm")
        n_plain = bfm.write_model(m, p_plain)
        n_packed = bfm.write_model(m, p_packed, compressed=True)
        packed = open(p_packed, "rb").read()
        assert n_plain == len(plain) and n_packed == len(packed), (n_plain, n_packed)
        assert packed[:4] == bfm.ZSTD_MAGIC, packed[:4]
        params = zstandard.get_frame_parameters(packed)
        assert params.content_size == len(plain), (params.content_size, len(plain))
        assert params.has_checksum
        assert bfm.inflate(packed) == plain
        back = bfm.read_model(p_packed)
        assert bfm.serialize(back) == plain, "the compressed model read back differs"
        print(f"ok: {len(plain)} bytes -> {len(packed)} compressed, reads back identical")

    expect_error(packed[:-1], "compressed, truncated by 1 byte")
    expect_error(packed[: len(packed) // 2], "compressed, truncated to half")
    expect_error(packed + b"\0", "a byte after the frame")
    expect_error(packed + packed, "two frames")
    streamed = zstandard.ZstdCompressor(write_content_size=False).compress(plain)
    expect_error(streamed, "no content size")
    bad = bytearray(plain)
    bad[len(bad) // 2] ^= 1
    expect_error(bfm.compress(bytes(bad)), "a valid frame around a file with a wrong CRC")
    # header declaring 2^40 bytes (single segment, 8-byte size), one empty raw last block
    huge = bytes([0x28, 0xB5, 0x2F, 0xFD, 0xE0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0])
    expect_error(huge, "declared size past the cap")
    print("compressed format OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
