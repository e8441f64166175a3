#!/usr/bin/env python3
"""The province's files: units.csv, people.csv and events.csv of the demo generator at a
province's size, for the import and output benchmarks (`bench/scale.py`).

usage: python bench/province.py FOLDER [--counties 86] [--townships 1300] [--villages 17000]
                                       [--seed N]

The rows are the demo's (`scheduler.demo.county`: the same tree, people, rates and habits as
``huiqi demo``), one year of events (2026, as of 2026-12-31), written as UTF-8 CSV with a BOM,
as Excel writes them. With the defaults: about 19,000 units and 195,000 events.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler.demo import county as demo  # noqa: E402

YEAR = 2026
AS_OF = date(YEAR, 12, 31)


def province_shape(counties: int, townships: int, villages: int) -> demo.Shape:
    """A province with communities and workshops at the demo county's rates per township."""
    per_township = demo.XIHE.townships
    return demo.Shape(
        counties=counties,
        townships=townships,
        villages=villages,
        communities=townships * demo.XIHE.communities // per_township,
        workshops=townships * demo.XIHE.workshops // per_township,
    )


def write_province(
    folder: Path, counties: int = 86, townships: int = 1300, villages: int = 17000,
    seed: int = demo.DEFAULT_SEED,
) -> list[Path]:  # fmt: skip
    """Generate the province and write its three CSV files into ``folder``."""
    shape = province_shape(counties, townships, villages)
    return demo.generate(seed, YEAR, AS_OF, shape).write_csv(folder)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--counties", type=int, default=86)
    parser.add_argument("--townships", type=int, default=1300)
    parser.add_argument("--villages", type=int, default=17000)
    parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
    options = parser.parse_args(argv)
    paths = write_province(
        options.folder, options.counties, options.townships, options.villages, options.seed
    )
    for path in paths:
        lines = sum(1 for _ in path.open(encoding="utf-8-sig")) - 1
        print(f"{path}: {lines:,} rows, {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
