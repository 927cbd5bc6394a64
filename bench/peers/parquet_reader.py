"""A small Parquet reader (Python standard library + NumPy) for the files `watchnext export
examples` writes, so the reference trainer runs where no Parquet library is installed (Debian 12
packages none for Python). It reads what those files hold and refuses the rest with a clear error:

- the footer (Thrift compact protocol) with its key-value metadata;
- flat INT32 / INT64 / FLOAT / DOUBLE columns and one-level LIST columns of them;
- data pages v1 and v2, PLAIN and dictionary (PLAIN_DICTIONARY / RLE_DICTIONARY) encodings,
  RLE / bit-packed hybrid levels;
- UNCOMPRESSED or GZIP pages (zlib).

Where pyarrow is installed, `pyarrow.parquet` reads the same files; this module is the fallback.

    table = read_parquet(path)   # -> ParquetTable(num_rows, metadata, columns)
    table.columns["label"]       # numpy array (flat column)
    table.columns["watches"]     # ListColumn(offsets, values): row r = values[offsets[r]:offsets[r+1]]
"""

import struct
import zlib
from dataclasses import dataclass

import numpy as np

MAGIC = b"PAR1"
_PLAIN_DTYPES = {1: "<i4", 2: "<i8", 4: "<f4", 5: "<f8"}  # INT32, INT64, FLOAT, DOUBLE
_TYPE_NAMES = {0: "BOOLEAN", 1: "INT32", 2: "INT64", 3: "INT96", 4: "FLOAT", 5: "DOUBLE", 6: "BYTE_ARRAY", 7: "FIXED_LEN_BYTE_ARRAY"}
_CODECS = {0: "UNCOMPRESSED", 1: "SNAPPY", 2: "GZIP", 3: "LZO", 4: "BROTLI", 5: "LZ4", 6: "ZSTD", 7: "LZ4_RAW"}


class ParquetError(ValueError):
    """A file this reader cannot read (with the file and the column named)."""


@dataclass
class ListColumn:
    offsets: np.ndarray  # int64, num_rows + 1
    values: np.ndarray


@dataclass
class ParquetTable:
    num_rows: int
    metadata: dict
    columns: dict


# --- Thrift compact protocol -------------------------------------------------------------------


class _Thrift:
    def __init__(self, buf, pos=0):
        self.buf = buf
        self.pos = pos

    def byte(self):
        b = self.buf[self.pos]
        self.pos += 1
        return b

    def varint(self):
        shift = 0
        out = 0
        while True:
            b = self.byte()
            out |= (b & 0x7F) << shift
            if b < 0x80:
                return out
            shift += 7

    def zigzag(self):
        v = self.varint()
        return (v >> 1) ^ -(v & 1)

    def value(self, kind):
        if kind == 1:
            return True
        if kind == 2:
            return False
        if kind == 3:
            return struct.unpack("b", bytes([self.byte()]))[0]
        if kind in (4, 5, 6):
            return self.zigzag()
        if kind == 7:
            v = struct.unpack_from("<d", self.buf, self.pos)[0]
            self.pos += 8
            return v
        if kind == 8:
            n = self.varint()
            v = bytes(self.buf[self.pos : self.pos + n])
            self.pos += n
            return v
        if kind in (9, 10):
            header = self.byte()
            size = header >> 4
            elem = header & 0x0F
            if size == 15:
                size = self.varint()
            if elem in (1, 2):  # booleans in a list are one byte each
                return [self.byte() == 1 for _ in range(size)]
            return [self.value(elem) for _ in range(size)]
        if kind == 11:
            size = self.varint()
            if size == 0:
                return {}
            kv = self.byte()
            return {self.value(kv >> 4): self.value(kv & 0x0F) for _ in range(size)}
        if kind == 12:
            return self.struct()
        raise ParquetError(f"unknown Thrift compact type {kind}")

    def struct(self):
        out = {}
        last = 0
        while True:
            header = self.byte()
            if header == 0:
                return out
            delta = header >> 4
            kind = header & 0x0F
            fid = last + delta if delta else self.zigzag()
            last = fid
            out[fid] = self.value(kind)


# --- levels and values ----------------------------------------------------------------------------


def _bit_width(max_level):
    return int(max_level).bit_length()


def _rle_hybrid(buf, pos, end, bit_width, count):
    """Decodes `count` values of the RLE / bit-packed hybrid encoding from buf[pos:end]."""
    out = np.empty(count, dtype=np.int64)
    n = 0
    byte_width = (bit_width + 7) // 8
    reader = _Thrift(buf, pos)
    while n < count:
        if reader.pos >= end:
            raise ParquetError("RLE run past the end of its data")
        header = reader.varint()
        if header & 1:
            groups = header >> 1
            nbytes = groups * bit_width
            raw = np.frombuffer(buf, dtype=np.uint8, count=nbytes, offset=reader.pos)
            reader.pos += nbytes
            if bit_width == 0:
                vals = np.zeros(groups * 8, dtype=np.int64)
            else:
                bits = np.unpackbits(raw, bitorder="little").reshape(-1, bit_width)
                vals = bits.astype(np.int64) @ (1 << np.arange(bit_width, dtype=np.int64))
            take = min(len(vals), count - n)
            out[n : n + take] = vals[:take]
            n += take
        else:
            run = header >> 1
            v = int.from_bytes(bytes(buf[reader.pos : reader.pos + byte_width]), "little")
            reader.pos += byte_width
            take = min(run, count - n)
            out[n : n + take] = v
            n += take
    return out, reader.pos


def _decompress(data, codec, size, where):
    if codec == 0:
        return data
    if codec == 2:
        out = zlib.decompress(data, 47)  # gzip or zlib header
        if len(out) != size:
            raise ParquetError(f"{where}: page decompressed to {len(out)} bytes, header says {size}")
        return out
    raise ParquetError(f"{where}: codec {_CODECS.get(codec, codec)} is not supported here (export with gzip, or use pyarrow)")


def _plain(data, ptype, count, where):
    dtype = _PLAIN_DTYPES.get(ptype)
    if dtype is None:
        raise ParquetError(f"{where}: physical type {_TYPE_NAMES.get(ptype, ptype)} is not supported here")
    return np.frombuffer(data, dtype=dtype, count=count)


# --- columns ------------------------------------------------------------------------------------------


def _column_chunk(buf, meta, ptype, max_def, max_rep, where):
    """All (rep, def, values) of one column chunk."""
    codec = meta[4]
    total = meta[5]
    # The dictionary page, when there is one, comes first.
    pos = meta[11] if meta.get(11, 0) > 0 and meta[11] < meta[9] else meta[9]
    dictionary = None
    reps, defs, vals = [], [], []
    seen = 0
    while seen < total:
        t = _Thrift(buf, pos)
        header = t.struct()
        start = t.pos
        page = bytes(buf[start : start + header[3]])
        pos = start + header[3]
        kind = header[1]
        if kind == 2:  # dictionary page
            dh = header[7]
            data = _decompress(page, codec, header[2], where)
            dictionary = _plain(data, ptype, dh[1], where).copy()
            continue
        if kind == 0:
            dh = header[5]
            n = dh[1]
            encoding = dh[2]
            data = _decompress(page, codec, header[2], where)
            p = 0
            rep = np.zeros(n, dtype=np.int64)
            d = np.full(n, max_def, dtype=np.int64)
            if max_rep > 0:
                length = struct.unpack_from("<I", data, p)[0]
                rep, _ = _rle_hybrid(data, p + 4, p + 4 + length, _bit_width(max_rep), n)
                p += 4 + length
            if max_def > 0:
                length = struct.unpack_from("<I", data, p)[0]
                d, _ = _rle_hybrid(data, p + 4, p + 4 + length, _bit_width(max_def), n)
                p += 4 + length
            values_data = data[p:]
        elif kind == 3:
            dh = header[8]
            n = dh[1]
            encoding = dh[4]
            dlen, rlen = dh[5], dh[6]
            rep = np.zeros(n, dtype=np.int64)
            d = np.full(n, max_def, dtype=np.int64)
            if max_rep > 0:
                rep, _ = _rle_hybrid(page, 0, rlen, _bit_width(max_rep), n)
            if max_def > 0:
                d, _ = _rle_hybrid(page, rlen, rlen + dlen, _bit_width(max_def), n)
            body = page[rlen + dlen :]
            compressed = dh.get(7, True)
            values_data = _decompress(body, codec, header[2] - rlen - dlen, where) if compressed else body
        else:
            raise ParquetError(f"{where}: page type {kind} is not supported")
        present = int((d == max_def).sum())
        if encoding == 0:
            v = _plain(values_data, ptype, present, where)
        elif encoding in (2, 8):
            if dictionary is None:
                raise ParquetError(f"{where}: dictionary-encoded page without a dictionary page")
            width = values_data[0]
            idx, _ = _rle_hybrid(values_data, 1, len(values_data), width, present)
            v = dictionary[idx]
        else:
            raise ParquetError(f"{where}: value encoding {encoding} is not supported here")
        reps.append(rep)
        defs.append(d)
        vals.append(v)
        seen += n
    return np.concatenate(reps), np.concatenate(defs), np.concatenate(vals)


def _schema_leaves(schema):
    """(path, physical type, max def, max rep) of every leaf, walking the flattened schema."""
    leaves = []

    def walk(i, path, max_def, max_rep):
        el = schema[i]
        name = el[4].decode()
        repetition = el.get(3, 0)
        d = max_def + (1 if repetition in (1, 2) else 0)
        r = max_rep + (1 if repetition == 2 else 0)
        children = el.get(5, 0)
        i += 1
        if children == 0:
            leaves.append((path + [name], el.get(1), d, r))
            return i
        for _ in range(children):
            i = walk(i, path + [name], d, r)
        return i

    root_children = schema[0].get(5, 0)
    i = 1
    for _ in range(root_children):
        i = walk(i, [], 0, 0)
    return leaves


def read_parquet(path, columns=None):
    """Reads the file (optionally only `columns`, by top-level name)."""
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:4] != MAGIC or buf[-4:] != MAGIC:
        raise ParquetError(f"{path}: not a Parquet file (no PAR1 magic)")
    footer_len = struct.unpack_from("<I", buf, len(buf) - 8)[0]
    meta = _Thrift(buf, len(buf) - 8 - footer_len).struct()
    kv = {e[1].decode(): e.get(2, b"").decode() for e in meta.get(5, [])}
    leaves = _schema_leaves(meta[2])
    num_rows = meta[3]
    out = {}
    for li, (leaf_path, ptype, max_def, max_rep) in enumerate(leaves):
        name = leaf_path[0]
        if columns is not None and name not in columns:
            continue
        where = f"{path}: column {'.'.join(leaf_path)}"
        if max_rep > 1:
            raise ParquetError(f"{where}: nested lists are not supported")
        parts = []
        for rg in meta[4]:
            chunk = rg[1][li]
            parts.append(_column_chunk(buf, chunk[3], ptype, max_def, max_rep, where))
        rep = np.concatenate([p[0] for p in parts])
        d = np.concatenate([p[1] for p in parts])
        values = np.concatenate([p[2] for p in parts])
        if max_rep == 0:
            if (d != max_def).any():
                raise ParquetError(f"{where}: holds nulls (watchnext exports have none)")
            out[name] = values
            continue
        # One-level LIST: a row starts at rep 0; an element is present at max_def; max_def - 2 = empty list.
        if (d < max_def - 2).any() or (d == max_def - 1).any():
            raise ParquetError(f"{where}: holds null lists or null elements (watchnext exports have none)")
        starts = np.flatnonzero(rep == 0)
        if len(starts) != num_rows:
            raise ParquetError(f"{where}: {len(starts)} rows, the footer says {num_rows}")
        counts = np.add.reduceat((d == max_def).astype(np.int64), starts)
        offsets = np.zeros(num_rows + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        out[name] = ListColumn(offsets, values)
    return ParquetTable(num_rows, kv, out)
