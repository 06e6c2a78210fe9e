"""Download and processing time of a citizen's photo, through the real pipeline on loopback.

A 5 MB JPEG (4000x3000, as a phone camera makes it: noisy, the JPEG quality that makes it 5 MB, EXIF with GPS and an
orientation) is put in the local Twilio media API (tests/providers/twilio_api.py: basic auth,
a 307 to a CDN host); each run fetches it with ``TwilioMediaFetcher``, processes it
(``bot.media.process``: auto-rotate, strip EXIF, at most 2048 px, thumbnail) and keeps it in a
filesystem blob store, as the worker does. Prints the median and the spread of each part, and
the sizes in and out.

    .venv/bin/python -m bench.media_speed [--runs 10]
"""
from __future__ import annotations

import argparse
import io
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from bot.media.fetch import TwilioMediaFetcher
from bot.media.process import process
from storage.blobs import FilesystemBlobStore

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the local provider stand-ins live with the tests

from providers.twilio_api import ACCOUNT_SID, AUTH_TOKEN, TwilioApiServer  # noqa: E402


def camera_photo(width: int = 4000, height: int = 3000, target: int = 5_000_000) -> bytes:
    """A noisy photo with a phone's EXIF (GPS, orientation), about ``target`` bytes."""
    rng = random.Random(13)
    noise = bytes(rng.getrandbits(8) for _ in range(width * height // 16 * 3))
    small = Image.frombytes("RGB", (width // 4, height // 4), noise)
    image = small.resize((width, height), Image.Resampling.BICUBIC)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "S", 2: (6.0, 53.0, 29.4), 3: "E", 4: (107.0, 36.0, 38.5)}
    for quality in range(70, 100):  # the first quality that reaches the target size
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, exif=exif)
        if out.tell() >= target:
            break
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the stand-in's request lines
    photo = camera_photo()
    timings: dict[str, list[float]] = {"download": [], "process": [], "store": [], "total": []}
    with TwilioApiServer() as twilio, tempfile.TemporaryDirectory() as tmp:
        url = twilio.put_media("MM" + "0" * 32, photo, "image/jpeg")
        fetcher = TwilioMediaFetcher(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, api_base_url=twilio.base_url)
        store = FilesystemBlobStore(Path(tmp))
        for run in range(runs + 1):  # the first run warms up
            start = time.perf_counter()
            fetched = fetcher.fetch(url)
            fetched_at = time.perf_counter()
            done = process(fetched.data)
            processed_at = time.perf_counter()
            store.put(done.data, done.content_type)
            if done.thumbnail is not None:
                store.put(done.thumbnail, "image/jpeg")
            stored_at = time.perf_counter()
            if run:
                timings["download"].append(fetched_at - start)
                timings["process"].append(processed_at - fetched_at)
                timings["store"].append(stored_at - processed_at)
                timings["total"].append(stored_at - start)
        fetcher.close()
    kept = Image.open(io.BytesIO(done.data))
    print(f"photo in: {len(photo) / 1e6:.2f} MB, 4000x3000 with EXIF; kept: {len(done.data) / 1e6:.2f} MB, "
          f"{kept.size[0]}x{kept.size[1]}, EXIF {'none' if not kept.getexif() else 'LEFT'}; "
          f"thumbnail {len(done.thumbnail or b'') / 1e3:.1f} kB")
    for part, values in timings.items():
        print(f"{part:>8}: median {statistics.median(values) * 1000:6.0f} ms  "
              f"(min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f}, n={len(values)})")


if __name__ == "__main__":
    main()
