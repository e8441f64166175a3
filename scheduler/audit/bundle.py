"""The 台账 with its documents: one ZIP holding the XLSX listing and every attachment of the
listing's evidence, in folders ``附件/UNIT/RULE/PERIOD/`` (an event serving several obligations
is filed under each). The XLSX's 附件 column links each obligation's folder and its 附件清单 sheet
links every file, with relative links that work once the ZIP is unpacked.

The ZIP is written as a stream into the output: each document is copied from the store in
chunks (`shutil.copyfileobj`), so memory stays bounded whatever the size of the year; only the
XLSX is built in memory, in a second thread while the documents are copied, and written last.
Nothing is compressed a second time: documents are stored as they are (PDFs, photos and Office
files are compressed already), and so is the XLSX (a ZIP of deflated parts itself).
"""

from __future__ import annotations

import multiprocessing
import re
import shutil
import zipfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from scheduler.audit.listing import AuditListing, AuditRow
from scheduler.store import attachments
from scheduler.store.blobs import BlobStore
from scheduler.store.models_attachments import Attachment

FOLDER = "附件"
UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Document:
    """One file of the bundle: where it goes and which bytes it holds."""

    path: str
    sha256: str
    size: int
    unit_code: str
    rule_id: str
    period_label: str
    event_id: int
    kind: str
    filename: str
    attachment_id: int


ObligationKey = tuple[str, str, str]  # (unit code, rule id, period label)


def safe(part: str) -> str:
    """A path part without separators or characters Windows refuses (``2021-10-01/2026-09-30``
    becomes ``2021-10-01_2026-09-30``)."""
    return UNSAFE.sub("_", part).strip(" .") or "_"


def obligation_key(row: AuditRow) -> ObligationKey:
    return (row.unit.code, row.rule.id, row.obligation.period.label)


def key_of(document: Document) -> ObligationKey:
    return (document.unit_code, document.rule_id, document.period_label)


def by_obligation(documents: Sequence[Document]) -> dict[ObligationKey, list[Document]]:
    """The documents grouped by the obligation they are filed under, in their order."""
    found: dict[ObligationKey, list[Document]] = {}
    for document in documents:
        found.setdefault(key_of(document), []).append(document)
    return found


def folder_of(key: ObligationKey) -> str:
    unit, rule, period = key
    return f"{FOLDER}/{safe(unit)}/{safe(rule)}/{safe(period)}/"


def documents_of(session: Session, listing: AuditListing) -> list[Document]:
    """The documents of the listing's evidence (`plan` over the attachments stored for it)."""
    ids = [e.event_id for row in listing.rows for e in row.evidence]
    return plan(listing, attachments.by_event(session, ids))


def plan(listing: AuditListing, files: Mapping[int, Sequence[Attachment]]) -> list[Document]:
    """Every document of the listing's evidence, filed by obligation, in listing order."""
    documents = []
    for row in listing.rows:
        key = obligation_key(row)
        for evidence in row.evidence:
            for item in files.get(evidence.event_id, ()):
                name = f"{item.id}-{safe(item.filename)}"
                documents.append(
                    Document(
                        folder_of(key) + name,
                        item.sha256,
                        item.size,
                        *key,
                        evidence.event_id,
                        item.kind,
                        item.filename,
                        item.id,
                    )
                )
    return documents


def write_zip(
    out: BinaryIO,
    xlsx_name: str,
    xlsx: Callable[[Sequence[Document]], bytes],
    documents: Sequence[Document],
    store: BlobStore,
    when: datetime,
    forked: bool = False,
) -> int:
    """Write the bundle into ``out`` (entries dated ``when``): each document streamed from
    ``store``, then the XLSX (made by ``xlsx`` from the documents it links); how many documents
    were written. The XLSX is built while the documents are copied: in a second thread, or
    (``forked``, for a single-threaded process such as the command line, and an ``xlsx`` that
    uses no database connection) in a forked child process, which runs on another processor
    instead of taking the interpreter's lock from the copying."""
    stamp = when.timetuple()[:6]
    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="bundle-xlsx") as pool,
        zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive,
    ):
        made = partial(xlsx, documents)
        workbook = pool.submit(in_child(made) if forked else made)
        for document in documents:
            info = zipfile.ZipInfo(document.path, date_time=stamp)
            info.file_size = document.size
            with store.open(document.sha256) as source, archive.open(info, "w") as target:
                shutil.copyfileobj(source, target, CHUNK)
        # stored: an XLSX is itself a ZIP of deflated parts
        archive.writestr(zipfile.ZipInfo(xlsx_name, date_time=stamp), workbook.result())
    return len(documents)


def in_child(make: Callable[[], bytes]) -> Callable[[], bytes]:
    """``make`` started at once in a forked child process; the returned call waits for its
    bytes (made again here, where its error can be raised, if the child failed). The child
    shares nothing it writes with this process and leaves without running its exit handlers
    (multiprocessing's fork ends with ``os._exit``)."""
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_send, args=(make, sending), daemon=True)
    child.start()
    sending.close()

    def result() -> bytes:
        try:
            made: bytes | None = receiving.recv()
        except EOFError:
            made = None
        finally:
            receiving.close()
            child.join()
        return make() if made is None else made

    return result


def _send(make: Callable[[], bytes], sending: Any) -> None:
    try:
        sending.send(make())
    except BaseException:  # said by the parent, which makes it again
        sending.send(None)
    finally:
        sending.close()
