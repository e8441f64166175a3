"""The 台账 with its documents as a download: ``/audit?format=zip``.

The bundle (`scheduler.audit.bundle`: the XLSX and every document of its evidence in folders by
unit, rule and period) is written into a spooled temporary file, in memory up to
`SPOOL_BYTES` and on disk beyond, then streamed to the browser a chunk at a time: memory stays
bounded whatever the documents weigh. The listing is the visitor's (its units are those she
may read), and so are the documents.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from typing import IO, BinaryIO, cast
from urllib.parse import quote

from fastapi.responses import StreamingResponse

from scheduler.audit import bundle
from scheduler.audit import export as audit_export
from scheduler.audit import listing as audit
from scheduler.audit import xlsx as audit_xlsx
from scheduler.audit.export import local_time
from scheduler.store import trail
from scheduler.store.blobs import blob_store
from scheduler.web.kit import Visit

SPOOL_BYTES = 8_000_000
CHUNK_BYTES = 1 << 20


def zip_download(
    visit: Visit,
    listing: audit.AuditListing,
    changes: list[trail.Change],
    documents: list[bundle.Document],
) -> StreamingResponse:
    """The bundle as an attachment download named after the listing's scope."""
    settings, lang, zone = visit.context.settings, visit.lang, visit.context.settings.zone
    name = f"{audit_export.labels(lang)['title']}-{listing.query.scope}"

    def workbook(linked: Sequence[bundle.Document]) -> bytes:
        return audit_xlsx.to_xlsx(listing, lang, zone, visit.now, changes, linked)

    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (closed by _chunks)
    try:
        out = cast(BinaryIO, spool)  # a binary file, as write_zip wants
        store, when = blob_store(settings), local_time(visit.now, zone)
        bundle.write_zip(out, f"{name}.xlsx", workbook, documents, store, when)
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    disposition = f"attachment; filename=\"audit.zip\"; filename*=UTF-8''{quote(name + '.zip')}"
    headers = {"Content-Disposition": disposition, "Content-Length": str(size),
               "X-Content-Type-Options": "nosniff"}  # fmt: skip
    return StreamingResponse(_chunks(spool), media_type="application/zip", headers=headers)


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk
