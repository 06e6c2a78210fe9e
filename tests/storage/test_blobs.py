"""storage.blobs: the filesystem store, and the S3 store against a real S3 API server on loopback
(moto's server mode, over HTTP, through boto3)."""
from __future__ import annotations

import hashlib
import stat
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from tests_support import free_port

from storage.blobs import FilesystemBlobStore, S3BlobStore, blob_key

PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # JPEG-looking bytes


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(params=["filesystem", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "filesystem":
        return FilesystemBlobStore(tmp_path / "media")
    client = boto3.client("s3", endpoint_url=request.getfixturevalue("s3_endpoint"), region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    bucket = f"lapor-{tmp_path.name.lower().replace('_', '-')[-40:]}"
    client.create_bucket(Bucket=bucket)
    return S3BlobStore(client, bucket)


def test_a_blob_is_kept_under_the_sha256_of_its_bytes(store) -> None:
    blob = store.put(PHOTO, "image/jpeg")
    assert blob.key == hashlib.sha256(PHOTO).hexdigest() == blob_key(PHOTO) and blob.size == len(PHOTO)
    assert store.exists(blob.key) and store.get(blob.key) == PHOTO
    assert store.put(PHOTO, "image/jpeg") == blob  # the same bytes again: kept once


def test_a_missing_blob_is_a_key_error_and_a_malformed_key_a_value_error(store) -> None:
    missing = blob_key(b"never stored")
    assert not store.exists(missing)
    with pytest.raises(KeyError):
        store.get(missing)
    for bad in ("../../etc/passwd", "ABC", missing.upper(), missing + "0", ""):
        with pytest.raises(ValueError):
            store.get(bad)


def test_files_on_disk_are_private_and_whole(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path / "media")
    blob = store.put(PHOTO, "image/jpeg")
    path = tmp_path / "media" / blob.key[:2] / blob.key[2:4] / blob.key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not list(path.parent.glob(".partial-*"))  # nothing half-written left behind


def test_s3_objects_carry_their_type_and_checksum(s3_endpoint: str) -> None:
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    client.create_bucket(Bucket="lapor-meta")
    blob = S3BlobStore(client, "lapor-meta").put(PHOTO, "image/jpeg")
    head = client.head_object(Bucket="lapor-meta", Key=f"sha256/{blob.key}", ChecksumMode="ENABLED")
    assert head["ContentType"] == "image/jpeg" and head["ContentLength"] == len(PHOTO)


def test_the_configured_store_is_built_from_config_and_environment(s3_endpoint: str, tmp_path: Path) -> None:
    from tests_support import ROOT, make_settings

    from bot.config import ConfigError
    from bot.services import blob_store

    local = blob_store(make_settings("sqlite://"))
    assert isinstance(local, FilesystemBlobStore) and local.root == ROOT / "var" / "media"
    config = tmp_path / "config.yaml"
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace("store: filesystem", "store: s3")
    config.write_text(text.replace("dialogs/scripts", str(ROOT / "dialogs" / "scripts")), encoding="utf-8")
    with pytest.raises(ConfigError, match="media.s3_bucket"):
        make_settings("sqlite://", {"LAPOR_CONFIG": str(config)})
    config.write_text(config.read_text(encoding="utf-8").replace('s3_bucket: ""', "s3_bucket: lapor-evidence"),
                      encoding="utf-8")
    settings = make_settings("sqlite://", {"LAPOR_CONFIG": str(config), "LAPOR_S3_ENDPOINT_URL": s3_endpoint,
                                           "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                                           "AWS_DEFAULT_REGION": "us-east-1"})
    remote = blob_store(settings)
    assert isinstance(remote, S3BlobStore)
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket="lapor-evidence")
    assert remote.get(remote.put(PHOTO, "image/jpeg").key) == PHOTO
