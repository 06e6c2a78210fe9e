"""process(): the type comes from the bytes; photos come out upright, at most 2048 px, with no
metadata; PDFs and voice notes are kept byte for byte; everything else is refused."""
from __future__ import annotations

import io
import random
import struct
import wave
import zipfile
import zlib

import filetype
import pytest
from media_support import VOICE_NOTE, ogg_page
from PIL import Image, ImageCms

from bot.media import process as process_module
from bot.media.fetch import Fetched
from bot.media.process import MAX_SIDE, Processed, Refused, process

GPS_IFD = 0x8825
ORIENTATION = 0x0112
XMP = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
       b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
       b'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:City="Bandung"/></rdf:RDF>'
       b'</x:xmpmeta><?xpacket end="w"?>')
SECRETS = (b"Bandung", b"Budi Santoso", b"SM-A546E", b"Exif", b"adobe:ns:meta")
METADATA_KEYS = {"exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile", "Author", "Description",
                 "Comment", "Raw profile type exif"}
SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def camera_exif(orientation: int = 1) -> Image.Exif:
    """What a phone writes: its make and model, the time, the orientation and where it was."""
    exif = Image.Exif()
    exif[0x010F] = "samsung"
    exif[0x0110] = "SM-A546E"
    exif[0x013B] = "Budi Santoso"  # Artist
    exif[0x0132] = "2026:11:28 08:15:00"
    exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2] = "S", (6.0, 54.0, 53.0)  # 6°54'53" S, 107°36'35" E: Bandung
    gps[3], gps[4] = "E", (107.0, 36.0, 35.0)
    return exif


def photo(size: tuple[int, int] = (400, 300), mode: str = "RGB", colour: object = (90, 140, 200)) -> Image.Image:
    """A plain image with a red block in its stored top-left corner, to see where it turns up."""
    image = Image.new(mode, size, colour)  # type: ignore[arg-type]
    if mode in ("RGB", "RGBA"):
        image.paste((255, 0, 0) + ((255,) if mode == "RGBA" else ()), (0, 0, size[0] // 4, size[1] // 4))
    return image


def jpeg(image: Image.Image, **save: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, **save)
    return buffer.getvalue()


def encoded(image: Image.Image, fmt: str, **save: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def reopened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_no_metadata(data: bytes) -> None:
    image = reopened(data)
    assert dict(image.getexif()) == {}
    assert not METADATA_KEYS & set(image.info), image.info
    assert not [secret for secret in SECRETS if secret in data]
    if image.format == "PNG":
        assert image.text == {}  # type: ignore[attr-defined]
        assert not [name for name in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP") if name in data]


# -- photos ------------------------------------------------------------------------------------

def test_a_phone_photo_loses_its_exif_gps_xmp_comment_and_profile() -> None:
    original = jpeg(photo(), exif=camera_exif(), xmp=XMP, comment=b"Budi Santoso", icc_profile=SRGB_ICC)
    assert all(secret in original for secret in SECRETS)  # the test photo does carry them
    assert reopened(original).getexif().get_ifd(GPS_IFD)[2] == (6.0, 54.0, 53.0)

    kept = process(original)

    assert (kept.content_type, kept.kind) == ("image/jpeg", "image")
    assert_no_metadata(kept.data)
    assert reopened(kept.data).size == (400, 300)


def test_orientation_6_comes_out_portrait_and_upright() -> None:
    kept = process(jpeg(photo((400, 300)), exif=camera_exif(orientation=6)))

    image = reopened(kept.data)
    assert image.size == (300, 400)
    # Orientation 6: the stored image is shown turned 90° clockwise, so its top-left is now top-right
    red, blue = image.getpixel((290, 10)), image.getpixel((10, 10))
    assert red[0] > 200 and red[2] < 60 and blue[2] > 160  # type: ignore[index]
    assert_no_metadata(kept.data)


def test_a_large_photo_is_scaled_to_2048_px_with_a_thumbnail_of_320() -> None:
    kept = process(jpeg(photo((5000, 3000)), exif=camera_exif()))

    assert reopened(kept.data).size == (2048, 1229)
    assert kept.thumbnail is not None
    thumb = reopened(kept.thumbnail)
    assert thumb.format == "JPEG" and thumb.size == (320, 192)
    assert_no_metadata(kept.thumbnail)


@pytest.mark.parametrize("size, max_side, expected", [
    ((3000, 5000), MAX_SIDE, (1229, 2048)),
    ((2048, 100), MAX_SIDE, (2048, 100)),
    ((640, 480), MAX_SIDE, (640, 480)),  # small photos are not enlarged
    ((1000, 500), 100, (100, 50)),
    ((10000, 3), 1000, (1000, 1)),  # never a side of 0 px
])
def test_photos_fit_max_side(size: tuple[int, int], max_side: int, expected: tuple[int, int]) -> None:
    kept = process(encoded(photo(size), "PNG"), max_side=max_side)

    assert reopened(kept.data).size == expected
    assert kept.thumbnail is not None and max(reopened(kept.thumbnail).size) <= 320


def test_a_png_loses_its_text_chunks_and_keeps_its_transparency() -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "Budi Santoso")
    info.add_text("Description", "Bandung", zip=True)
    info.add_itxt("Comment", "Bandung", lang="id")
    original = encoded(photo(mode="RGBA", colour=(0, 0, 0, 0)), "PNG", pnginfo=info, exif=camera_exif(),
                       icc_profile=SRGB_ICC)

    kept = process(original)

    assert kept.content_type == "image/png"
    assert_no_metadata(kept.data)
    image = reopened(kept.data)
    assert image.mode == "RGBA" and image.getpixel((399, 299))[3] == 0 and image.getpixel((0, 0))[3] == 255  # type: ignore[index]


def test_a_palette_png_with_transparency_scales_as_rgba() -> None:
    image = photo((3000, 300)).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    original = encoded(image, "PNG", transparency=0)

    kept = reopened(process(original).data)

    assert (kept.mode, kept.size) == ("RGBA", (2048, 205))


def test_a_webp_stays_webp_without_metadata() -> None:
    original = encoded(photo((3000, 2000)), "WEBP", exif=camera_exif(), xmp=XMP, icc_profile=SRGB_ICC)
    assert b"Bandung" in original and b"EXIF" in original

    kept = process(original)

    assert kept.content_type == "image/webp"
    assert reopened(kept.data).size == (2048, 1365)
    assert_no_metadata(kept.data)
    assert b"EXIF" not in kept.data and b"XMP " not in kept.data and b"ICCP" not in kept.data


def test_the_declared_type_is_never_consulted() -> None:
    fetched = Fetched(data=encoded(photo(), "PNG"), declared_type="image/jpeg")

    assert process(fetched.data).content_type == "image/png"


def test_a_cmyk_jpeg_comes_out_rgb() -> None:
    kept = reopened(process(jpeg(Image.new("CMYK", (300, 200), (0, 255, 255, 0)))).data)

    assert kept.mode == "RGB"
    assert kept.getpixel((10, 10))[0] > 200  # type: ignore[index]  # red stays red


def test_a_greyscale_jpeg_stays_greyscale() -> None:
    assert reopened(process(jpeg(Image.new("L", (300, 200), 128))).data).mode == "L"


def test_an_animated_png_keeps_its_first_frame() -> None:
    frames = [photo(colour=(0, 255, 0)), photo(colour=(0, 0, 255))]
    original = encoded(frames[0], "PNG", save_all=True, append_images=frames[1:])
    assert filetype.guess_mime(original) == "image/apng"

    kept = process(original)

    image = reopened(kept.data)
    assert kept.content_type == "image/png" and getattr(image, "n_frames", 1) == 1
    assert image.getpixel((399, 299))[1] == 255  # type: ignore[index]


def test_a_jpeg_is_decoded_at_a_reduced_size_when_that_is_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    """libjpeg's 1/8 scale: a 1600 x 1200 JPEG decodes as 200 x 150 pixels for a result of 100 x 75,
    under a limit that the same picture as PNG (decoded whole) exceeds."""
    monkeypatch.setattr(process_module, "MAX_PIXELS", 100_000)
    image = photo((1600, 1200))

    assert reopened(process(jpeg(image), max_side=100).data).size == (100, 75)
    with pytest.raises(Refused, match=r"image too large \(1600 x 1200 pixels\)"):
        process(encoded(image, "PNG"), max_side=100)


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` and holds almost nothing: a decompression bomb's shape."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("width, height", [(8000, 8000), (20000, 20000)])  # over our limit; over Pillow's own too
def test_a_decompression_bomb_is_refused_before_it_is_decoded(width: int, height: int) -> None:
    with pytest.raises(Refused, match="image too large"):
        process(png_header(width, height))


@pytest.mark.parametrize("data", [
    jpeg(photo())[:600],
    encoded(photo(), "PNG")[:120],
    b"\xff\xd8\xff\xe0" + bytes(500),
    png_header(100, 100),  # an IDAT far too short for its size
    encoded(photo(), "WEBP")[:40],
], ids=["truncated jpeg", "truncated png", "jpeg magic only", "short idat", "truncated webp"])
def test_a_damaged_image_is_refused(data: bytes) -> None:
    with pytest.raises(Refused, match="^damaged image$"):
        process(data)


def test_the_thumbnail_of_a_transparent_png_is_a_jpeg_on_white() -> None:
    kept = process(encoded(Image.new("RGBA", (640, 480), (0, 0, 0, 0)), "PNG"))

    assert kept.thumbnail is not None
    thumb = reopened(kept.thumbnail)
    assert (thumb.format, thumb.mode, thumb.size) == ("JPEG", "RGB", (320, 240))
    assert min(thumb.getpixel((100, 100))) > 245  # type: ignore[arg-type]


def test_heic_is_refused_without_a_decoder() -> None:
    Image.init()
    if "HEIF" in Image.OPEN:
        pytest.skip("a HEIF plugin is installed here")
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)

    with pytest.raises(Refused, match=r"^unsupported type image/heic"):
        process(heic)


# -- kept byte for byte ----------------------------------------------------------------------

def wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(1600))
    return buffer.getvalue()


def iso_media(brand: bytes, handler: bytes) -> bytes:
    """An ISO base media file (MP4, M4A) of ``brand`` with one track of ``handler`` type."""
    ftyp = b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00" + brand + b"isom"
    hdlr = b"\x00\x00\x00\x21hdlr" + bytes(8) + handler + bytes(13)
    return ftyp + b"\x00\x00\x00\x29moov" + hdlr + bytes(64)


PDF = b"%PDF-1.7\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


@pytest.mark.parametrize("data, content_type, kind", [
    (PDF, "application/pdf", "document"),
    (VOICE_NOTE, "audio/ogg", "audio"),
    (ogg_page(b"\x01vorbis" + bytes(22), first=True) + bytes(100), "audio/ogg", "audio"),
    (b"\xff\xfb\x90\x00" * 50, "audio/mpeg", "audio"),
    (iso_media(b"M4A ", b"soun"), "audio/mp4", "audio"),
    (b"#!AMR\n" + bytes(160), "audio/amr", "audio"),
    (wav(), "audio/wav", "audio"),
], ids=["pdf", "opus voice note", "vorbis", "mp3", "m4a", "amr", "wav"])
def test_documents_and_audio_are_kept_byte_for_byte(data: bytes, content_type: str, kind: str) -> None:
    """Without metadata to take out (bot.media.scrub, tested in test_scrub.py), the very bytes."""
    assert process(data) == Processed(data=data, content_type=content_type, kind=kind, thumbnail=None)


# -- refused ---------------------------------------------------------------------------------

def zip_file() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("laporan.txt", "isi")
    return buffer.getvalue()


NOISE = random.Random(7).randbytes(4096)


@pytest.mark.parametrize("data, reason", [
    (iso_media(b"isom", b"vide"), "unsupported type video/mp4"),
    (iso_media(b"M4A ", b"vide"), "unsupported type video/mp4 (an audio brand on a file with a video track)"),
    (b"\x1aE\xdf\xa3\x9f\x42\x82\x88matroska" + bytes(64), "unsupported type video/x-matroska"),
    (ogg_page(b"\x80theora" + bytes(34), first=True) + VOICE_NOTE, "unsupported type video/ogg"),
    (ogg_page(b"fishead\x00" + bytes(56), first=True), "unsupported type application/ogg (a stream that is no audio we know)"),
    (b"OggS" + bytes(30), "damaged audio"),
    (zip_file(), "unsupported type application/zip"),
    (b"MZ\x90\x00" + bytes(200), "unsupported type application/x-msdownload"),
    (b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "unsupported type: not recognised"),
    (encoded(photo(), "GIF"), "unsupported type image/gif"),
    (encoded(photo(), "BMP"), "unsupported type image/bmp"),
    (b"\xff\xf1\x50\x80" + bytes(100), "unsupported type audio/aac"),  # raw ADTS: not in the allowed list
    (NOISE, "unsupported type: not recognised"),
    (b"", "empty file"),
], ids=["mp4 video", "m4a with video", "mkv", "ogg theora", "ogg skeleton", "ogg without pages", "zip", "exe",
        "html", "gif", "bmp", "raw aac", "random bytes", "empty"])
def test_everything_else_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(Refused) as refused:
        process(data)
    assert str(refused.value) == reason


def test_random_bytes_are_unknown_to_filetype_too() -> None:
    assert filetype.guess(NOISE) is None


def test_max_side_must_be_positive() -> None:
    with pytest.raises(ValueError):
        process(PDF, max_side=0)
