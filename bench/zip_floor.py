#!/usr/bin/env python3
"""The floor of the 台账 ZIP benchmark (`bench/audit_zip.py`): the standard ``zipfile`` module
writing files under given names into a ZIP, stored (no compression), and nothing else: the
standard library only, so that as a whole process it pays no imports of huiqi's.

usage: python bench/zip_floor.py MANIFEST ZIP  (MANIFEST: one ``SOURCE<TAB>NAME`` a line)
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path


def floor(manifest: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for line in manifest.read_text(encoding="utf-8").splitlines():
            source, name = line.split("\t")
            archive.write(source, name)


if __name__ == "__main__":
    floor(Path(sys.argv[1]), Path(sys.argv[2]))
