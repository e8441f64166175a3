"""Attachments of events: typed by content, bounded, content-addressed, kept through
replacements and voids, in the trail, and served only inside the reader's units."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from scheduler.config import FileSettings
from scheduler.core.problems import InputError
from scheduler.core.rules import RuleBook
from scheduler.store import attachments, registry
from scheduler.store.blobs import FolderStore
from scheduler.store.database import transaction
from scheduler.store.models import ChangeRecord, Event
from scheduler.store.models_attachments import Attachment
from tests import filesamples as sample
from tests.countyfacts import RECORDED, load_county
from tests.webfixtures import EVENTS

LIMITS = FileSettings(max_bytes=200_000, max_pixels=1_000_000, thumbnail_pixels=64)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def world(engine: Engine, book: RuleBook, tmp_path: Path) -> tuple[Engine, FolderStore, int]:
    """The small county with one hearing at 101, a folder store, and the hearing's id."""
    load_county(engine, book, EVENTS)
    with transaction(engine) as session:
        event_id = session.scalars(select(Event.id)).one()
    return engine, FolderStore(tmp_path / "files"), event_id


def attach(world: tuple[Engine, FolderStore, int], name: str, data: bytes, kind: str = "minutes"):
    engine, store, event_id = world
    with transaction(engine) as session:
        row = attachments.attach(
            session, store, LIMITS, event_id, attachments.Upload(name, data, kind), "刘主席",
            RECORDED,
        )  # fmt: skip
        session.expunge(row)
        return row


def refusal(world: tuple[Engine, FolderStore, int], name: str, data: bytes, kind: str = "minutes"):
    with pytest.raises(InputError) as caught:
        attach(world, name, data, kind)
    engine = world[0]
    with transaction(engine) as session:
        assert session.scalars(select(Attachment)).all() == []
    return str(caught.value)


def refusal_in_chinese(
    world: tuple[Engine, FolderStore, int], name: str, data: bytes, kind: str = "minutes"
) -> str:
    with pytest.raises(InputError) as caught:
        attach(world, name, data, kind)
    return caught.value.said("zh")


@pytest.mark.parametrize(
    ("name", "data", "media_type", "stored"),
    [
        ("会议记录.pdf", sample.pdf(), "application/pdf", "会议记录.pdf"),
        ("scan.pdf", sample.png(), "image/png", "scan.png"),  # the content decides
        ("合影.jpeg", sample.jpeg(), "image/jpeg", "合影.jpeg"),
        ("纪要", sample.ooxml("word/document.xml"), DOCX, "纪要.docx"),
        ("签到表.xls", sample.ooxml("xl/workbook.xml"), XLSX, "签到表.xlsx"),
        ("决议.wps", sample.OLE_MAGIC + b"\0" * 504, "application/msword", "决议.wps"),
        ("../../etc/通知.doc", sample.OLE_MAGIC + b"\0" * 504, "application/msword", "通知.doc"),
    ],
)
def test_a_file_is_typed_by_its_content_and_named_after_it(
    world: tuple[Engine, FolderStore, int], name: str, data: bytes, media_type: str, stored: str
) -> None:
    row = attach(world, name, data)
    assert (row.media_type, row.filename, row.size) == (media_type, stored, len(data))
    assert row.sha256 == hashlib.sha256(data).hexdigest()
    with world[1].open(row.sha256) as kept:
        assert kept.read() == data


@pytest.mark.parametrize(
    ("name", "data", "says", "chinese"),
    [
        ("photo.jpg", sample.HTML, "not a PDF, an image", "不是 PDF、图片（PNG、JPEG、GIF、WebP）"),
        ("logo.png", sample.SVG, "not a PDF, an image", "或 Office 文档"),
        ("minutes.docx", sample.plain_zip(), "a ZIP archive", "是 ZIP 压缩包：不是 PDF"),
        (
            "macro.docx",
            sample.ooxml("word/document.xml", ("word/vbaProject.bin",)),
            "macros",
            "不接受带宏的 Office 文档",
        ),
        ("broken.png", sample.png()[:40], "a damaged image", "图片已损坏：不是 PDF"),
        (
            "big.png",
            sample.png(1200, 1000),
            "more than 1,000,000",
            "1200x1000 像素，超过 1,000,000",
        ),
        ("empty.pdf", b"", "the file is empty", "文件是空的"),
        (
            "huge.pdf",
            b"%PDF-" + b"0" * 200_000,
            "larger than 200,000 bytes",
            "文件超过 200,000 字节",
        ),
    ],
)
def test_a_file_that_is_not_an_accepted_document_is_refused_whatever_its_name(
    world: tuple[Engine, FolderStore, int], name: str, data: bytes, says: str, chinese: str
) -> None:
    assert says in refusal(world, name, data)
    assert chinese in refusal_in_chinese(world, name, data)


def test_an_unknown_document_type_is_refused(world: tuple[Engine, FolderStore, int]) -> None:
    assert "unknown document type 'selfie'" in refusal(world, "a.pdf", sample.pdf(), "selfie")
    assert "没有这种材料类型“selfie”（可选：" in refusal_in_chinese(
        world, "a.pdf", sample.pdf(), "selfie"
    )


def test_an_image_gets_an_upright_thumbnail_and_the_attachment_is_in_the_trail(
    world: tuple[Engine, FolderStore, int],
) -> None:
    from PIL import Image

    row = attach(world, "合影.jpg", sample.jpeg(800, 600), "photo")
    assert row.thumbnail_sha256 is not None
    with world[1].open(row.thumbnail_sha256) as kept, Image.open(kept) as thumbnail:
        assert (thumbnail.format, thumbnail.size) == ("JPEG", (64, 48))
    assert attach(world, "通知.pdf", sample.pdf(), "notice").thumbnail_sha256 is None
    with transaction(world[0]) as session:
        entries = session.scalars(
            select(ChangeRecord).where(ChangeRecord.action == "attachment.add")
        ).all()
    assert [e.after["document"] for e in entries] == ["photo", "notice"]
    assert entries[0].after["file"] == "合影.jpg" and entries[0].actor == "刘主席"


def test_the_same_bytes_are_kept_once(world: tuple[Engine, FolderStore, int]) -> None:
    first, second = attach(world, "a.pdf", sample.pdf()), attach(world, "b.pdf", sample.pdf())
    assert first.sha256 == second.sha256 and first.id != second.id
    assert len([p for p in (world[1].root).rglob("*") if p.is_file()]) == 1


def test_replacing_an_event_keeps_its_attachments_in_the_history_and_on_the_new_version(
    world: tuple[Engine, FolderStore, int], book: RuleBook
) -> None:
    engine, _, event_id = world
    row = attach(world, "纪要.pdf", sample.pdf())
    cells = {"unit": "101", "kinds": "hearing", "date": "2021-02-11", "title": "改期"}
    with transaction(engine) as session:
        new_id = registry.replace_event(session, book, event_id, cells, "刘主席", RECORDED)
    with transaction(engine) as session:
        found = attachments.by_event(session, [event_id, new_id])
    assert [a.id for a in found[event_id]] == [row.id]
    assert [(a.sha256, a.copied_from) for a in found[new_id]] == [(row.sha256, row.id)]
    with transaction(engine) as session:
        registry.void_event(session, new_id, "录入错误", "刘主席", RECORDED)
    with transaction(engine) as session:
        assert len(attachments.by_event(session, [new_id])[new_id]) == 1


def test_only_a_current_event_takes_new_attachments(
    world: tuple[Engine, FolderStore, int],
) -> None:
    engine, _, event_id = world
    with transaction(engine) as session:
        registry.void_event(session, event_id, "录入错误", "刘主席", RECORDED)
    assert f"no current event {event_id}" in refusal(world, "a.pdf", sample.pdf())
    assert f"没有编号为{event_id}的现行记录" in refusal_in_chinese(world, "a.pdf", sample.pdf())


def test_nothing_the_engine_reads_depends_on_attachments() -> None:
    """Optional by construction: the pure core never imports the attachments."""
    core = Path(__file__).resolve().parent.parent / "scheduler" / "core"
    for module in core.glob("*.py"):
        text = module.read_text(encoding="utf-8")
        assert "attachment" not in text.lower(), module.name
