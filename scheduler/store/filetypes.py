"""What an uploaded file is, read from its content, never from its name.

Accepted: PDF, PNG, JPEG, GIF and WebP images, Office documents (OOXML: .docx, .xlsx, .pptx,
without macros) and the older OLE documents (.doc, .xls, .ppt and WPS's .wps, .et, .dps).
Everything else (HTML, SVG, scripts, archives, executables) is refused whatever it is called.
Images are opened with Pillow, within a bound on their pixels, before anything else reads them;
an OOXML file is read by its ZIP directory only, never unpacked.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from PIL import Image, UnidentifiedImageError

from scheduler.core.problems import InputError, Message, single

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)
IMAGES = {
    "PNG": ("image/png", ".png"),
    "JPEG": ("image/jpeg", ".jpg"),
    "GIF": ("image/gif", ".gif"),
    "WEBP": ("image/webp", ".webp"),
}
OOXML = {
    "word/document.xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".docx",
    ),
    "xl/workbook.xml": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".xlsx",
    ),
    "ppt/presentation.xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ".pptx",
    ),
}
OLE_SUFFIXES = {
    ".doc": "application/msword",
    ".wps": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".et": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".dps": "application/vnd.ms-powerpoint",
}
NOT_ACCEPTED = Message("file_not_accepted")


@dataclass(frozen=True)
class FileType:
    """What a file is: its media type, the suffix its name gets, and an image's size."""

    media_type: str
    suffix: str
    image: bool = False
    width: int | None = None
    height: int | None = None


def identify(data: bytes, filename: str, max_pixels: int, where: str = "upload") -> FileType:
    """The type of ``data`` by its content; `InputError` naming ``where`` when it is none of
    the accepted ones. ``filename`` only picks between the OLE documents' suffixes."""
    if data.startswith(b"%PDF-"):
        return FileType("application/pdf", ".pdf")
    if data.startswith(OLE_MAGIC):
        suffix = PurePath(filename).suffix.lower()
        suffix = suffix if suffix in OLE_SUFFIXES else ".doc"
        return FileType(OLE_SUFFIXES[suffix], suffix)
    if data.startswith(b"PK\x03\x04"):
        return _office(data, where)
    if _image_magic(data):
        return _image(data, max_pixels, where)
    raise single(NOT_ACCEPTED, where, field="file")


def _image_magic(data: bytes) -> bool:
    if any(data.startswith(magic) for magic, _ in IMAGE_MAGIC):
        return True
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def _image(data: bytes, max_pixels: int, where: str) -> FileType:
    """Open the image (its header first: no pixels are decoded beyond ``max_pixels``)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format or ""
                width, height = image.size
                if kind not in IMAGES:
                    raise single(NOT_ACCEPTED, where, field="file")
                if width * height > max_pixels:
                    pixels = Message(
                        "image_too_many_pixels",
                        width=width,
                        height=height,
                        limit=f"{max_pixels:,}",
                    )
                    raise single(pixels, where, field="file")
                image.verify()
    except InputError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Warning):
        damaged = Message("damaged_image", reason=NOT_ACCEPTED)
        raise single(damaged, where, field="file") from None
    media_type, suffix = IMAGES[kind]
    return FileType(media_type, suffix, True, width, height)


def _office(data: bytes, where: str) -> FileType:
    """An OOXML document, told by the parts its ZIP directory lists; macros are refused."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        damaged = Message("damaged_zip_file", reason=NOT_ACCEPTED)
        raise single(damaged, where, field="file") from None
    if "[Content_Types].xml" in names:
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            raise single(Message("office_macros"), where, field="file")
        for part, (media_type, suffix) in OOXML.items():
            if part in names:
                return FileType(media_type, suffix)
    raise single(Message("zip_archive", reason=NOT_ACCEPTED), where, field="file")


def stored_name(filename: str, found: FileType, fallback: str = "file") -> str:
    """The name a file keeps: its base name without folders or control characters, at most 150
    characters, with the suffix its content has (``scan.pdf`` holding a PNG is ``scan.png``)."""
    base = PurePath(filename.replace("\\", "/")).name
    base = "".join(char for char in base if char.isprintable() and char not in '"/\\')
    stem = PurePath(base).stem if PurePath(base).suffix else base
    stem = stem.strip(" .")[:150] or fallback
    same = found.suffix == ".jpg" and PurePath(base).suffix.lower() == ".jpeg"
    return f"{stem}{'.jpeg' if same else found.suffix}"
