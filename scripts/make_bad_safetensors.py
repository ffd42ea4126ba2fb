#!/usr/bin/env python3
"""scripts/make_bad_safetensors.py — writes the corpus of malformed safetensors files that
`safetune inspect` must reject with exit code 2 and one line naming the problem (tests/cli/cli_test.cpp),
and that seeds the header fuzzer (scripts/fuzz). Pure standard library, so it runs anywhere.

tests/fixtures/bad_safetensors/NAME.safetensors + expected.json {NAME: substring the error must contain}
"""
import json
import struct
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "bad_safetensors"


def st_file(header, data=b"", length=None, raw_header=None) -> bytes:
    h = raw_header if raw_header is not None else json.dumps(header).encode()
    n = len(h) if length is None else length
    return struct.pack("<Q", n) + h + data


def f32(n: int) -> bytes:
    return b"\x00" * (4 * n)


ok_entry = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}

CASES = {
    # name: (bytes, substring of the expected message)
    "empty": (b"", "too short"),
    "short_prefix": (b"\x10\x00\x00", "too short"),
    "huge_header_length": (struct.pack("<Q", 2**63) + b"{}", "exceeds"),
    "header_over_cap": (struct.pack("<Q", 200 * 1024 * 1024) + b"{}", "exceeds"),
    "header_past_eof": (struct.pack("<Q", 100) + b'{"a":1}', "past the end"),
    "not_json": (st_file(None, raw_header=b"{this is not json}"), "not valid JSON"),
    "truncated_json": (st_file(None, raw_header=b'{"w": {"dtype": "F32", "sha'), "not valid JSON"),
    "header_is_array": (st_file(None, raw_header=b"[1, 2, 3]"), "JSON object"),
    "non_utf8_header": (st_file(None, raw_header=b'{"w\xff\xfe": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}'),
                        "not valid JSON"),
    "duplicate_names": (st_file(None, raw_header=b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, '
                                                 b'"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}',
                                data=f32(2)), "duplicate tensor name 'w'"),
    "unknown_dtype": (st_file({"w": {"dtype": "F7", "shape": [2], "data_offsets": [0, 8]}}, f32(2)), "unknown dtype 'F7'"),
    "shape_overflow": (st_file({"w": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 8]}}, f32(2)),
                       "overflows"),
    "negative_dim": (st_file({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, f32(2)), "non-negative"),
    "float_dim": (st_file({"w": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]}}, f32(2)), "non-negative"),
    "size_mismatch": (st_file({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}}, f32(3)),
                      "shape × dtype size is 16"),
    "begin_after_end": (st_file({"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}}, f32(2)), "begin 8 > end 4"),
    "offsets_overlap": (st_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                 "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, f32(3)), "overlap"),
    "offsets_past_end": (st_file({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, f32(2)), "past the data"),
    "gap_between_tensors": (st_file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                                     "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}, f32(3)), "gap"),
    "trailing_bytes": (st_file({"w": ok_entry}, f32(3)), "after the last tensor"),
    "truncated_data": (st_file({"w": {"dtype": "F32", "shape": [64], "data_offsets": [0, 256]}}, f32(10)), "past the data"),
    "offsets_arity": (st_file({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0]}}, f32(2)), "data_offsets"),
    "offset_negative": (st_file({"w": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}}, f32(2)), "data_offsets"),
    "entry_not_object": (st_file({"w": [1, 2]}, b""), "entry must be an object"),
    "missing_dtype": (st_file({"w": {"shape": [2], "data_offsets": [0, 8]}}, f32(2)), "missing string 'dtype'"),
    "metadata_not_string": (st_file({"__metadata__": {"format": 1}, "w": ok_entry}, f32(2)), "must be a string"),
    "unknown_field": (st_file({"w": {**ok_entry, "strides": [1]}}, f32(2)), "unknown field 'strides'"),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.safetensors"):
        old.unlink()
    expected = {}
    for name, (data, message) in CASES.items():
        (OUT / f"{name}.safetensors").write_bytes(data)
        expected[name] = message
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    print(f"bad_safetensors: {len(CASES)} files")


if __name__ == "__main__":
    main()
