"""``GET /media/<sha256>.<ext>``: a kept file, for whoever holds a valid signed link.

No sign-in: the registry opens the links of a submission (``bot.media.links``) until they
expire. A link that is expired, altered or not ours gets 403, a file that is not (or no
longer) kept 404. The answer is the file as kept (EXIF stripped), with its type from its bytes,
``nosniff``, a sandboxing CSP, and no name but its hash: nothing says who sent it.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from flask.typing import ResponseReturnValue

from storage import repository as repo

bp = Blueprint("media", __name__)
CACHE_SECONDS = 3600  # a registry may fetch again within the hour without asking us


@bp.get("/media/<name>")
def kept_file(name: str) -> ResponseReturnValue:
    services = current_app.extensions["lapor"]
    found = services.links.check(name, request.args.get("expires", ""), request.args.get("signature", ""),
                                 now=repo.utcnow())
    if found is None:
        abort(403)
    sha256, content_type = found
    return file_response(services.blobs, sha256, content_type, name)


def file_response(blobs, sha256: str, content_type: str, name: str) -> Response:
    """A kept file as an HTTP answer (404 when the store has no such file)."""
    try:
        data = blobs.get(sha256)
    except KeyError:
        abort(404)
    response = Response(data, content_type=content_type)
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = f"private, max-age={CACHE_SECONDS}"
    response.headers["ETag"] = f'"{sha256}"'
    return response
