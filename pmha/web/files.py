"""Files the pages send: PDFs to print, CSV boards, bundles and images to download."""

from __future__ import annotations

from flask import Response


def sent_file(body: bytes | str, mimetype: str, name: str, *, download: bool = False) -> Response:
    """A file for the browser, shown in it (a PDF to print) or, with `download`, saved. `name` is
    generic: nothing identifying goes into names that browsers and disks keep. Never cached."""
    disposition = "attachment" if download else "inline"
    headers = {
        "Content-Disposition": f'{disposition}; filename="{name}"',
        "Cache-Control": "no-store",
    }
    return Response(body, mimetype=mimetype, headers=headers)
