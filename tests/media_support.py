"""Files as citizens' phones make them, for the media tests: a voice note (OGG/Opus)."""
from __future__ import annotations

import struct


def ogg_page(packet: bytes, *, first: bool, serial: int = 1) -> bytes:
    """One OGG page holding one packet (the CRC is not checked by process)."""
    header = b"OggS\x00" + bytes([0x02 if first else 0x00]) + bytes(8) + struct.pack("<I", serial) + bytes(8)
    return header + bytes([1, len(packet)]) + packet


OPUS_HEAD = b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00"
VOICE_NOTE = ogg_page(OPUS_HEAD, first=True) + ogg_page(b"OpusTags" + bytes(16), first=False) + bytes(300)
