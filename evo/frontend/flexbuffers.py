"""A small FlexBuffers reader: enough for the custom options of Larq Compute Engine operators
(a map of string keys to ints, floats, bools, strings and vectors).

FlexBuffers layout (little-endian), as used here:

* the buffer ends with the root: `... value[byte_width] packed_type[1] byte_width[1]`;
* a packed type byte is `(type << 2) | width_code`, width = 1 << width_code bytes;
* scalars (INT/UINT/FLOAT/BOOL/NULL) are stored inline with the parent's width; everything
  else is an unsigned offset back from the position where it is stored;
* a vector is preceded by its length (one element wide) and, for untyped vectors and maps,
  followed by one packed type byte per element;
* a map is an untyped vector of values preceded by `keys_offset, keys_width, length`; the keys
  vector holds offsets to NUL-terminated strings, sorted.
"""
from __future__ import annotations

import struct

from evo.errors import EvoError

NULL, INT, UINT, FLOAT, KEY, STRING = 0, 1, 2, 3, 4, 5
INDIRECT_INT, INDIRECT_UINT, INDIRECT_FLOAT = 6, 7, 8
MAP, VECTOR, VECTOR_INT, VECTOR_UINT, VECTOR_FLOAT, VECTOR_KEY = 9, 10, 11, 12, 13, 14
VECTOR_STRING_DEPRECATED = 15
BLOB, BOOL, VECTOR_BOOL = 25, 26, 36
_TYPED = {VECTOR_INT: INT, VECTOR_UINT: UINT, VECTOR_FLOAT: FLOAT, VECTOR_KEY: KEY, VECTOR_STRING_DEPRECATED: STRING, VECTOR_BOOL: BOOL}


class FlexError(ValueError):
    pass


class _Reader:
    def __init__(self, buf: bytes):
        self.buf = bytes(buf)

    def _check(self, pos: int, n: int) -> None:
        if pos < 0 or pos + n > len(self.buf):
            raise FlexError(f"offset {pos}+{n} outside the {len(self.buf)}-byte buffer")

    def uint(self, pos: int, width: int) -> int:
        self._check(pos, width)
        return int.from_bytes(self.buf[pos : pos + width], "little", signed=False)

    def int(self, pos: int, width: int) -> int:
        self._check(pos, width)
        return int.from_bytes(self.buf[pos : pos + width], "little", signed=True)

    def float(self, pos: int, width: int) -> float:
        self._check(pos, width)
        if width == 4:
            return struct.unpack_from("<f", self.buf, pos)[0]
        if width == 8:
            return struct.unpack_from("<d", self.buf, pos)[0]
        raise FlexError(f"{width}-byte float")

    def indirect(self, pos: int, width: int) -> int:
        return pos - self.uint(pos, width)

    def cstring(self, pos: int) -> str:
        end = self.buf.find(b"\0", pos)
        if end < 0:
            raise FlexError("unterminated key")
        return self.buf[pos:end].decode("utf-8", "replace")

    def value(self, pos: int, parent_width: int, packed: int):
        t, width = packed >> 2, 1 << (packed & 3)
        if t == NULL:
            return None
        if t == INT:
            return self.int(pos, parent_width)
        if t == UINT:
            return self.uint(pos, parent_width)
        if t == FLOAT:
            return self.float(pos, parent_width)
        if t == BOOL:
            return bool(self.uint(pos, parent_width))
        target = self.indirect(pos, parent_width)
        if t == INDIRECT_INT:
            return self.int(target, width)
        if t == INDIRECT_UINT:
            return self.uint(target, width)
        if t == INDIRECT_FLOAT:
            return self.float(target, width)
        if t == KEY:
            return self.cstring(target)
        if t in (STRING, BLOB):
            n = self.uint(target - width, width)
            self._check(target, n)
            raw = self.buf[target : target + n]
            return raw.decode("utf-8", "replace") if t == STRING else raw
        if t == MAP:
            return self.map(target, width)
        if t == VECTOR:
            n = self.uint(target - width, width)
            types = target + n * width
            return [self.value(target + i * width, width, self.uint(types + i, 1)) for i in range(n)]
        if t in _TYPED:
            n = self.uint(target - width, width)
            elem = _TYPED[t]
            return [self.value(target + i * width, width, (elem << 2) | (packed & 3)) for i in range(n)]
        if VECTOR_INT <= t <= 24:  # fixed-length typed vectors (2, 3 or 4 elements)
            k = (t - 16) // 3 + 2
            elem = (INT, UINT, FLOAT)[(t - 16) % 3]
            return [self.value(target + i * width, width, (elem << 2) | (packed & 3)) for i in range(k)]
        raise FlexError(f"unknown FlexBuffers type {t}")

    def map(self, pos: int, width: int) -> dict:
        n = self.uint(pos - width, width)
        keys_width = self.uint(pos - 2 * width, width)
        keys = self.indirect(pos - 3 * width, width)
        types = pos + n * width
        out = {}
        for i in range(n):
            key = self.cstring(self.indirect(keys + i * keys_width, keys_width))
            out[key] = self.value(pos + i * width, width, self.uint(types + i, 1))
        return out


def loads(buf: bytes):
    """Decode a FlexBuffers root value (a map becomes a dict, vectors lists)."""
    if len(buf) < 3:
        raise FlexError("buffer too short")
    r = _Reader(buf)
    width = buf[-1]
    if width not in (1, 2, 4, 8):
        raise FlexError(f"root width {width}")
    packed = buf[-2]
    return r.value(len(buf) - 2 - width, width, packed)


def custom_options(op_desc: str, data: bytes | None) -> dict:
    """An operator's flexbuffer custom options as a dict; EvoError when they cannot be read."""
    if not data:
        return {}
    try:
        v = loads(data)
    except (FlexError, IndexError, struct.error) as e:
        raise EvoError(f"{op_desc}: cannot read its custom options ({e})", "the file is corrupt; re-convert the model") from None
    if not isinstance(v, dict):
        raise EvoError(f"{op_desc}: custom options are not a FlexBuffers map", "re-convert the model with the Larq converter")
    return v
