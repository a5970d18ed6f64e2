"""Writes the malformed .npy files of this corpus; each name says what is wrong with it.

Built by hand (no numpy needed), so every byte is deliberate. Run from this folder: python3 make_corpus.py
"""
import struct

MAGIC = b"\x93NUMPY"


def header(d, version=1, length=None):
    text = d.encode("latin-1") if isinstance(d, str) else d
    prefix = 10 if version == 1 else 12
    pad = (64 - (prefix + len(text) + 1) % 64) % 64
    text = text + b" " * pad + b"\n"
    n = len(text) if length is None else length
    size = struct.pack("<H", n) if version == 1 else struct.pack("<I", n)
    return MAGIC + bytes([version, 0]) + size + text


def ok_dict(shape="(2, 3)", descr="'<f4'", fortran="False"):
    return "{'descr': %s, 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape)


def floats(n):
    return struct.pack("<%df" % n, *[float(i) for i in range(n)])


files = {
    "empty.npy": b"",
    "bad_magic.npy": b"\x93NUMPX" + header(ok_dict())[6:] + floats(6),
    "text_file.npy": b"this is not a numpy file\n",
    "truncated_preamble.npy": MAGIC + b"\x01",
    "truncated_header.npy": header(ok_dict())[:40],
    "version_4.npy": header(ok_dict(), version=1)[:6] + b"\x04\x00" + header(ok_dict())[8:] + floats(6),
    "version_1_1.npy": MAGIC + b"\x01\x01" + header(ok_dict())[8:] + floats(6),
    "header_length_past_end.npy": header(ok_dict(), length=60000) + floats(6),
    "header_length_4gib.npy": header(ok_dict(), version=2, length=0xFFFFFFFF) + floats(6),
    "header_not_a_dict.npy": header("[1, 2, 3]"),
    "header_unterminated_string.npy": header("{'descr': '<f4, 'fortran_order': False, 'shape': (2,), }"),
    "header_missing_shape.npy": header("{'descr': '<f4', 'fortran_order': False, }") + floats(6),
    "header_extra_key.npy": header("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1, }") + floats(6),
    "header_duplicate_key.npy": header("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,), }") + floats(6),
    "header_nul_byte.npy": header("{'descr': '<f4',\x00 'fortran_order': False, 'shape': (6,), }") + floats(6),
    "header_non_ascii.npy": header(b"{'descr': '<f4', 'fortran_order': False, 'shape': (6,), '\xe9\xff': 1}") + floats(6),
    "header_v3_invalid_utf8.npy": header(b"{'descr': '<f\xc3\x28', 'fortran_order': False, 'shape': (6,), }", version=3) + floats(6),
    "header_deep_nesting.npy": header("{'descr': '<f4', 'fortran_order': False, 'shape': " + "(" * 30000 + ")" * 30000 + "}"),
    "shape_absurd_2_62.npy": header(ok_dict("(4611686018427387904,)")) + floats(6),
    "shape_overflows_long.npy": header(ok_dict("(4294967296, 4294967296)")) + floats(6),
    "shape_dim_past_long.npy": header(ok_dict("(100000000000000000000000,)")) + floats(6),
    "shape_negative.npy": header(ok_dict("(-1, 6)")) + floats(6),
    "shape_float.npy": header(ok_dict("(2.5,)")) + floats(6),
    "shape_not_a_tuple.npy": header(ok_dict("6")) + floats(6),
    "shape_lone_sign.npy": header(ok_dict("(-,)")) + floats(6),
    "dtype_float64.npy": header(ok_dict(descr="'<f8'")) + floats(12),
    "dtype_float16_holding_float32_data.npy": header(ok_dict(descr="'<f2'")) + floats(6),
    "dtype_int32.npy": header(ok_dict(descr="'<i4'")) + floats(6),
    "dtype_object.npy": header(ok_dict(descr="'|O'")) + floats(6),
    "dtype_structured.npy": header(ok_dict(descr="[('a', '<f4')]")) + floats(6),
    "dtype_none.npy": header(ok_dict(descr="None")) + floats(6),
    "fortran_order.npy": header(ok_dict(fortran="True")) + floats(6),
    "fortran_order_not_bool.npy": header(ok_dict(fortran="'yes'")) + floats(6),
    "data_truncated.npy": header(ok_dict("(100,)")) + floats(10),
    "data_trailing.npy": header(ok_dict("(2,)")) + floats(6),
    "header_lies_smaller.npy": header(ok_dict(), length=20) + floats(6),
}

for name, data in files.items():
    with open(name, "wb") as f:
        f.write(data)
