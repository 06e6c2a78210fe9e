"""Where evidence files are kept: one small interface, two stores, files named by their content.

A blob's key is the SHA-256 of its bytes (64 lowercase hex digits), so the same photo sent twice
is kept once, a key can never point outside the store, and whoever holds the key can check the
bytes. What a file *is* (its type, its complaint) lives in the database, not here.

- ``FilesystemBlobStore``: the embedded default, under ``var/media``: ``ab/cd/<key>``, files
  0600 in directories 0700, written whole or not at all.
- ``S3BlobStore``: any S3-compatible service (boto3), for production; objects ``sha256/<key>``.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

__all__ = ["Blob", "BlobStore", "FilesystemBlobStore", "S3BlobStore", "blob_key"]

_KEY = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Blob:
    """A stored file: its key (the SHA-256 of its bytes) and its size."""

    key: str
    size: int


def blob_key(data: bytes) -> str:
    """The key ``data`` is stored under."""
    return hashlib.sha256(data).hexdigest()


def _checked(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError("a blob key is 64 lowercase hex digits (a SHA-256)")
    return key


class BlobStore(Protocol):
    """Keeps bytes by their SHA-256. ``put`` of bytes already there changes nothing; ``get`` of
    a key not there raises KeyError; a malformed key raises ValueError."""

    def put(self, data: bytes, content_type: str) -> Blob: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...


class FilesystemBlobStore:
    """Blobs as files under ``root``."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        key = _checked(key)
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes, content_type: str) -> Blob:
        key = blob_key(data)
        path = self._path(key)
        if not path.is_file():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle, partial = tempfile.mkstemp(dir=path.parent, prefix=".partial-")  # created 0600
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(partial, path)
            except BaseException:
                Path(partial).unlink(missing_ok=True)
                raise
        return Blob(key, len(data))

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3BlobStore:
    """Blobs as objects ``sha256/<key>`` of an S3 bucket. ``client`` is a boto3 S3 client (its
    endpoint and credentials come from the environment: AWS_* and LAPOR_S3_ENDPOINT_URL)."""

    def __init__(self, client: Any, bucket: str):
        from botocore.exceptions import ClientError

        self._client, self._bucket, self._client_error = client, bucket, ClientError

    @staticmethod
    def _name(key: str) -> str:
        return f"sha256/{_checked(key)}"

    def put(self, data: bytes, content_type: str) -> Blob:
        key = blob_key(data)
        if not self.exists(key):
            self._client.put_object(Bucket=self._bucket, Key=self._name(key), Body=data, ContentType=content_type,
                                    ChecksumAlgorithm="SHA256")
        return Blob(key, len(data))

    def get(self, key: str) -> bytes:
        try:
            answer = self._client.get_object(Bucket=self._bucket, Key=self._name(key))
        except self._client_error as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise KeyError(key) from None
            raise
        body: bytes = answer["Body"].read()
        return body

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self._bucket, Key=self._name(key))
        except self._client_error as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True
