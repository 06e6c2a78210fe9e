"""What an attachment is, decided from its bytes, and a copy of it that is safe to keep. Pure: no I/O.

``process(data)`` identifies the bytes with ``filetype``; the type the sender or the provider
declared is never consulted. Then:

- A photo (JPEG, PNG or WebP; HEIC only where a Pillow plugin for it is installed, which is not
  a dependency of this project) is decoded, turned upright by its EXIF orientation, scaled down
  to fit ``max_side`` and re-encoded in its own format with no metadata at all: no EXIF (and so
  no GPS position, camera or time), no XMP, no comment, no PNG text chunk, no ICC profile (the
  colours are converted to sRGB instead). Animated images keep their first frame. A JPEG
  thumbnail of at most 320 px comes with it.
- A PDF or an audio recording (OGG with Opus or Vorbis, the voice notes of WhatsApp and
  Telegram; MP3; M4A; AMR; WAV) is kept as it is, but for its metadata (``bot.media.scrub``:
  a PDF's author and creator, an audio file's tags), which can name who made it.
- Anything else is ``Refused``: video, archives, programs, HTML, bytes nobody recognises.
"""
from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass

import filetype
from PIL import Image, ImageCms, ImageOps

from bot.media.scrub import scrubbed

MAX_SIDE = 2048  # pixels on a kept photo's longest side
THUMBNAIL_SIDE = 320
MAX_PIXELS = 50_000_000  # pixels decoded for one photo (JPEGs decode at a reduced size when they can): <= 200 MB
JPEG_QUALITY = 85
WEBP_QUALITY = 85
THUMBNAIL_QUALITY = 80

# filetype's answer -> the Pillow format that alone may decode it
_IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/apng": "PNG", "image/webp": "WEBP",
                  "image/heic": "HEIF"}
# the Pillow format decoded -> what it is saved as (browsers show no HEIC, so HEIC becomes JPEG)
_SAVED_AS = {"JPEG": ("JPEG", "image/jpeg"), "PNG": ("PNG", "image/png"), "WEBP": ("WEBP", "image/webp"),
             "HEIF": ("JPEG", "image/jpeg")}
# filetype's answer -> (content type, kind) of what is kept byte for byte
_KEPT = {
    "application/pdf": ("application/pdf", "document"),
    "audio/ogg": ("audio/ogg", "audio"),  # when its streams are audio (see _check_ogg)
    "audio/mpeg": ("audio/mpeg", "audio"),
    "audio/mp4": ("audio/mp4", "audio"),  # ISO base media with the M4A brand, and no video track
    "audio/amr": ("audio/amr", "audio"),
    "audio/x-wav": ("audio/wav", "audio"),
}
_OGG_AUDIO = (b"OpusHead", b"\x01vorbis", b"Speex   ", b"\x7fFLAC")  # first packet of each audio codec
_OGG_VIDEO = (b"\x80theora", b"BBCD\x00", b"\x01video")  # Theora, Dirac, OGM video
_OGG_STREAMS = 8  # logical streams read at the start of an OGG file
_VIDEO_TRACK = re.compile(rb"hdlr.{8}vide", re.DOTALL)  # an ISO base media handler box of type "vide"
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
# What Pillow raises for bytes it cannot decode (its own fuzzing reports these)
_UNDECODABLE = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error)
_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True, slots=True)
class Processed:
    """An attachment that is safe to keep."""

    data: bytes  # what we keep
    content_type: str  # from the bytes: image/jpeg, image/png, image/webp, application/pdf, audio/ogg, ...
    kind: str  # "image" | "document" | "audio"
    thumbnail: bytes | None  # images only: a JPEG at most 320 px on its longest side, no metadata


class Refused(Exception):
    """An attachment that is not kept; ``str(exc)`` says why, in English, for admins and logs
    (``"unsupported type video/mp4"``, ``"damaged image"``). It never quotes the content."""


def process(data: bytes, *, max_side: int = MAX_SIDE) -> Processed:
    """``data`` as it is to be kept (see the module's docstring), or Refused.

    ``max_side`` bounds a photo's longest side in pixels; ValueError when it is below 1.
    """
    if max_side < 1:
        raise ValueError("max_side must be at least 1")
    if not data:
        raise Refused("empty file")
    guessed = filetype.guess(data)
    mime = guessed.mime if guessed is not None else None
    if mime in _IMAGE_FORMATS:
        return _image(data, mime, max_side)
    if mime == "audio/ogg":
        _check_ogg(data)
    if mime == "audio/mp4" and _VIDEO_TRACK.search(data):
        raise Refused("unsupported type video/mp4 (an audio brand on a file with a video track)")
    if mime in _KEPT:
        content_type, kind = _KEPT[mime]
        return Processed(data=scrubbed(data, content_type), content_type=content_type, kind=kind, thumbnail=None)
    raise Refused(f"unsupported type {mime}" if mime else "unsupported type: not recognised")


# -- photos ----------------------------------------------------------------------------------

def _image(data: bytes, mime: str, max_side: int) -> Processed:
    decoder = _IMAGE_FORMATS[mime]
    Image.init()  # registers the installed plugins, a HEIF one included
    if decoder not in Image.OPEN:
        raise Refused(f"unsupported type {mime} (no decoder for it here)")
    try:
        with Image.open(io.BytesIO(data), formats=[decoder]) as opened:
            if opened.format in ("JPEG", "MPO"):  # libjpeg decodes at 1/2, 1/4 or 1/8 when that still covers the result
                opened.draft(None, _fitted(opened.size, max_side))
            if opened.width * opened.height > MAX_PIXELS:
                raise Refused(f"image too large ({opened.width} x {opened.height} pixels)")
            opened.load()
            image = _in_srgb(_upright(_scaled(_for_saving(opened, decoder), max_side)))  # turned once small
    except Image.DecompressionBombError:  # Pillow's own limit, checked by Image.open
        raise Refused("image too large") from None
    except _UNDECODABLE:
        raise Refused("damaged image") from None
    saved_as, content_type = _SAVED_AS[decoder]
    return Processed(data=_encoded(image, saved_as), content_type=content_type, kind="image",
                     thumbnail=_thumbnail(image))


def _fitted(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """``size`` scaled down, keeping its aspect, so that its longest side is ``max_side``; as it
    is when it already fits."""
    width, height = size
    longest = max(width, height)
    if longest <= max_side:
        return size
    scale = max_side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _upright(image: Image.Image) -> Image.Image:
    """A copy of ``image`` turned as its EXIF (or XMP) orientation says; as it is when that is unreadable."""
    try:
        return ImageOps.exif_transpose(image)
    except _UNDECODABLE:
        return image.copy()


def _for_saving(image: Image.Image, decoder: str) -> Image.Image:
    """``image`` in a mode that scales well and that its format saves: RGB, or RGBA for a PNG
    or WebP with transparency, or L for greyscale (not WebP). A CMYK image with an ICC profile
    stays CMYK for now: ``_in_srgb`` converts it with the profile."""
    alpha = image.mode in _ALPHA_MODES or "transparency" in image.info
    if alpha and decoder in ("PNG", "WEBP"):
        mode = "RGBA"
    elif image.mode in ("L", "1") and decoder != "WEBP":
        mode = "L"
    elif image.mode == "CMYK" and image.info.get("icc_profile"):
        return image
    else:
        mode = "RGB"
    return image if image.mode == mode else image.convert(mode)


def _scaled(image: Image.Image, max_side: int) -> Image.Image:
    """``image`` scaled to fit ``max_side`` (a square: turning it later changes nothing)."""
    size = _fitted(image.size, max_side)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _in_srgb(image: Image.Image) -> Image.Image:
    """``image`` converted to sRGB when it came with an ICC profile (and RGB when it is CMYK)."""
    profile = image.info.get("icc_profile")
    if profile and image.mode in ("RGB", "RGBA", "CMYK"):
        return _to_srgb(image, profile, "RGBA" if image.mode == "RGBA" else "RGB")
    return image.convert("RGB") if image.mode == "CMYK" else image


def _to_srgb(image: Image.Image, profile: bytes, mode: str) -> Image.Image:
    """``image`` converted from its ICC ``profile`` to sRGB, in ``mode``; only converted to
    ``mode`` when littlecms cannot use the profile."""
    try:
        converted = ImageCms.profileToProfile(image, ImageCms.ImageCmsProfile(io.BytesIO(profile)), _SRGB,
                                              outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image.convert(mode)
    return converted if converted is not None else image.convert(mode)


def _encoded(image: Image.Image, saved_as: str) -> bytes:
    """``image`` saved as ``saved_as``, with nothing but its pixels. Pillow copies ``info``
    along every operation and some encoders read from it (a JPEG's comment, a PNG's ICC
    profile), so it is emptied first."""
    image.info = {}
    buffer = io.BytesIO()
    if saved_as == "JPEG":
        image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif saved_as == "WEBP":
        image.save(buffer, "WEBP", quality=WEBP_QUALITY)
    else:
        image.save(buffer, saved_as)
    return buffer.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    """A JPEG of ``image`` at most ``THUMBNAIL_SIDE`` px on its longest side, transparency on white."""
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    if thumb.mode == "RGBA":
        background = Image.new("RGB", thumb.size, (255, 255, 255))
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    thumb.info = {}
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return buffer.getvalue()


# -- audio -----------------------------------------------------------------------------------

def _check_ogg(data: bytes) -> None:
    """Refused unless every logical stream of the OGG file is audio we know (Opus, Vorbis, Speex,
    FLAC). An OGG file starts with one beginning-of-stream page per stream, each holding that
    stream's first packet, which names its codec."""
    firsts: list[bytes] = []
    offset = 0
    while len(firsts) < _OGG_STREAMS:
        header = data[offset:offset + 27]
        if len(header) < 27 or header[:4] != b"OggS" or not header[5] & 0x02:  # 0x02: beginning of stream
            break
        table = data[offset + 27:offset + 27 + header[26]]
        if len(table) < header[26]:
            break
        start = offset + 27 + len(table)
        firsts.append(data[start:start + 8])
        offset = start + sum(table)
    if not firsts:
        raise Refused("damaged audio")
    for first in firsts:
        if first.startswith(_OGG_VIDEO):
            raise Refused("unsupported type video/ogg")
        if not first.startswith(_OGG_AUDIO):
            raise Refused("unsupported type application/ogg (a stream that is no audio we know)")
