"""Metadata out of documents and recordings that are otherwise kept as they are.

A PDF's document information (Author, Creator, Producer, Title...) and its XMP packet, and an
audio file's tags (ID3, MP4 atoms, Vorbis comments, RIFF INFO where mutagen writes them), can
name the person who made the file: an office document says "Microsoft Word - Budi Santoso".
``scrubbed`` returns the same document or recording without them; its pages and its sound are
untouched. A PDF that is signed or encrypted is kept byte for byte (rewriting it would break the
signature, and its signer is part of the evidence); so is a file the libraries cannot read.
"""
from __future__ import annotations

import io
import logging

__all__ = ["scrubbed"]

log = logging.getLogger(__name__)


def scrubbed(data: bytes, content_type: str) -> bytes:
    """``data`` without its metadata (see the module docstring); never raises."""
    try:
        if content_type == "application/pdf":
            return _pdf(data)
        if content_type.startswith("audio/"):
            return _audio(data)
    except Exception as exc:  # a file the library cannot rewrite: kept as it came
        log.info("metadata left in a %s the library cannot rewrite (%s)", content_type, type(exc).__name__)
    return data


def _pdf(data: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted or _signed(reader):
        return data
    if not reader.metadata and "/Metadata" not in reader.root_object:
        return data  # nothing to take out: keep the very bytes
    writer = PdfWriter(clone_from=reader)
    writer.metadata = None
    if "/Metadata" in writer.root_object:
        del writer.root_object["/Metadata"]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _signed(reader) -> bool:
    form = reader.root_object.get("/AcroForm")
    return bool(form is not None and int(form.get_object().get("/SigFlags", 0)) & 1)


def _audio(data: bytes) -> bytes:
    import mutagen
    from mutagen.id3 import ID3NoHeaderError
    from mutagen.id3 import delete as delete_id3

    handle = io.BytesIO(data)
    try:
        found = mutagen.File(handle)
    except mutagen.MutagenError:  # e.g. an MP3 whose frames it cannot sync to
        found = None
    if found is not None and found.tags:
        handle.seek(0)
        found.delete(handle)
    elif data[:3] == b"ID3":  # a tag mutagen could not read with its file: the tag still goes
        handle.seek(0)
        try:
            delete_id3(handle)
        except ID3NoHeaderError:
            pass
    return handle.getvalue()
