"""Every CSV huiqi writes for people starts with a UTF-8 BOM, so that Excel shows its Chinese
as written (without one, Excel on Chinese Windows reads it as GB18030 and garbles it)."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

from tests.conftest import EVENT_HEADER, ROOT, HuiqiRunner, huiqi_executable, write_csv

BOM = "\ufeff"


def test_every_csv_for_people_starts_with_a_bom(county: HuiqiRunner, tmp_path: Path) -> None:
    events = [("101", "hearing", "2021-02-02", "09:30", "镇党委会议", "", "", "m1")]
    county("events", "import", str(write_csv(tmp_path / "e.csv", EVENT_HEADER, events)))
    status = county("status", "--as-of", "2021-05-10", "--unit", "101", "--format", "csv").stdout
    assert status.startswith(BOM + "unit,unit_name,rule,period,")
    rows = list(csv.DictReader(io.StringIO(status.removeprefix(BOM))))
    assert rows and {row["unit_name"] for row in rows} == {"东山镇"}
    trail = county("trail", "--format", "csv").stdout
    assert trail.startswith(BOM) and "东山镇" in trail
    county("audit", "--year", "2021", "--as-of", "2021-05-10", "--format", "csv",
           "-o", str(tmp_path / "audit.csv"))  # fmt: skip
    county("scorecard", "--year", "2021", "--as-of", "2021-05-10", "--format", "csv",
           "-o", str(tmp_path / "score.csv"))  # fmt: skip
    county("template", "events", "--format", "csv", "-o", str(tmp_path / "template.csv"))
    for name in ("audit.csv", "score.csv", "template.csv"):
        text = (tmp_path / name).read_bytes().decode("utf-8")
        assert text.startswith(BOM) and any("\u4e00" <= c <= "\u9fff" for c in text), name


def test_the_demo_files_start_with_a_bom(tmp_path: Path) -> None:
    result = subprocess.run(
        [huiqi_executable(), "demo", "--export", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for name in ("units.csv", "people.csv", "events.csv"):
        assert (tmp_path / name).read_bytes().startswith(BOM.encode()), name
