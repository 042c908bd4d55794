"""The embedded log's batch and record layout on disk (see segment.py for the full description)."""

from __future__ import annotations

import struct

# The batch CRC is zlib's CRC-32; zlib-ng computes the same checksum with the CPU's carry-less multiply instructions,
# ~10x zlib's speed, and every read checks it
from zlib_ng.zlib_ng import crc32 as crc32

BATCH = struct.Struct(">IIqIq")
BATCH_SIZE = BATCH.size  # 28
_CRC_TAIL = struct.Struct(">qIq")  # base_offset, count, max_timestamp: covered by the crc with the body
REC = struct.Struct(">qiiH")
REC_SIZE = REC.size  # 18
REC_DTYPE = [("ts", ">i8"), ("kl", ">i4"), ("vl", ">i4"), ("hc", ">u2")]  # REC as a numpy record: the same 18 bytes
_HKEY = struct.Struct(">H")
_HVAL = struct.Struct(">i")
