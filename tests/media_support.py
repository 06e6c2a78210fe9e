"""Files as citizens' phones make them, for the media tests: photos (with a phone's EXIF when
asked) and a voice note (OGG/Opus); and ``keep``, what the download worker does with a file."""
from __future__ import annotations

import io
import struct

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg(width: int = 64, height: int = 48, colour: tuple[int, int, int] = (10, 20, 30), *, exif: bool = False) -> bytes:
    """A JPEG; with ``exif``, as a phone makes it: the camera, the GPS position, and an
    orientation that turns it (the kept photo is portrait)."""
    image = Image.new("RGB", (width, height), colour)
    out = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "PhoneMaker"  # Make
        tags[0x0110] = "Model X"  # Model
        tags[ORIENTATION] = 6  # rotated 90 degrees
        tags[GPS_IFD] = {1: "S", 2: (6.0, 53.0, 29.4), 3: "E", 4: (107.0, 36.0, 38.5)}
        image.save(out, "JPEG", exif=tags, quality=90)
    else:
        image.save(out, "JPEG")
    return out.getvalue()


def keep(services, attachment_id: int, data: bytes) -> None:
    """Keep ``data`` for an attachment as the download worker does (processed, in the blob store,
    its row "stored"), for tests about what comes after the download."""
    from bot.media.process import process
    from storage import repository as repo

    kept = process(data)
    blob = services.blobs.put(kept.data, kept.content_type)
    thumb = services.blobs.put(kept.thumbnail, "image/jpeg").key if kept.thumbnail is not None else None
    with services.db.transaction() as session:
        repo.store_attachment(session, attachment_id, kind=kept.kind, content_type=kept.content_type, size=blob.size,
                              sha256=blob.key, thumb_sha256=thumb, transcript=None, now=repo.utcnow())


def ogg_page(packet: bytes, *, first: bool, serial: int = 1) -> bytes:
    """One OGG page holding one packet (the CRC is not checked by process)."""
    header = b"OggS\x00" + bytes([0x02 if first else 0x00]) + bytes(8) + struct.pack("<I", serial) + bytes(8)
    return header + bytes([1, len(packet)]) + packet


OPUS_HEAD = b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00"
VOICE_NOTE = ogg_page(OPUS_HEAD, first=True) + ogg_page(b"OpusTags" + bytes(16), first=False) + bytes(300)
