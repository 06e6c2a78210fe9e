"""Metadata out of kept documents and recordings (bot.media.scrub): a PDF's author and XMP, an
MP3's ID3 tag; signed PDFs and files the libraries cannot read are kept byte for byte."""
from __future__ import annotations

import io

from media_support import VOICE_NOTE
from mutagen.id3 import ID3, TPE1
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, NumberObject

from bot.media.process import process
from bot.media.scrub import scrubbed

NAME = "Budi Santoso"


def pdf(*, signed: bool = False, author: str = NAME) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Author": author, "/Creator": f"Microsoft Word - {author}"})
    if signed:
        writer.root_object[NameObject("/AcroForm")] = DictionaryObject({NameObject("/SigFlags"): NumberObject(3)})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_pdf_loses_its_author_and_keeps_its_pages() -> None:
    original = pdf()
    assert NAME.encode() in original
    kept = process(original)
    assert kept.content_type == "application/pdf" and NAME.encode() not in kept.data
    reader = PdfReader(io.BytesIO(kept.data))
    assert len(reader.pages) == 1 and not reader.metadata


def test_a_signed_pdf_and_a_clean_one_are_kept_byte_for_byte() -> None:
    signed = pdf(signed=True)
    assert scrubbed(signed, "application/pdf") == signed
    clean = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.metadata = None
    writer.write(clean)
    assert scrubbed(clean.getvalue(), "application/pdf") == clean.getvalue()


def test_an_mp3_loses_its_tag() -> None:
    handle = io.BytesIO(b"\xff\xfb\x90\x64" + bytes(417) * 4)
    tag = ID3()
    tag.add(TPE1(encoding=3, text=[NAME]))
    tag.save(handle)
    tagged = handle.getvalue()
    assert NAME.encode() in tagged
    kept = scrubbed(tagged, "audio/mpeg")
    assert NAME.encode() not in kept and kept.endswith(bytes(417))


def test_a_voice_note_and_unreadable_bytes_are_kept_as_they_are() -> None:
    assert scrubbed(VOICE_NOTE, "audio/ogg") == VOICE_NOTE
    assert scrubbed(b"%PDF-1.7 broken", "application/pdf") == b"%PDF-1.7 broken"
