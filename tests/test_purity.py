"""The pure core (every module of ``scheduler.core``) imports no database, mail, template, HTTP,
network or scheduler library, not even indirectly at run time.

import-linter checks the static imports (pyproject.toml); this test checks what is loaded.

Each core module is imported alone in a fresh interpreter; a meta-path hook there records which
module first imported each forbidden package, and ``sys.modules`` is checked afterwards.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import scheduler.core
from tests.conftest import ROOT

CORE = sorted(
    f"scheduler.core.{module.name}" for module in pkgutil.iter_modules(scheduler.core.__path__)
)
FORBIDDEN = (
    "sqlalchemy",
    "smtplib",
    "jinja2",
    "http",
    "socket",
    "requests",
    "yagmail",
    "fastapi",
    "apscheduler",
    "alembic",
    "psycopg",
    "starlette",
    "uvicorn",
)
# The standard library's email.utils imports socket (for getfqdn); it is reached through
# importlib.metadata, which pydantic's plugin loader imports when a model class is built.
# No other route to a forbidden package is allowed.
TOLERATED = {("socket", "email.utils")}

PROBE = """
import importlib, json, sys
FORBIDDEN = set(sys.argv[2].split(","))
SKIP = ("importlib", "importlib._bootstrap", "importlib._bootstrap_external", "__main__")
importers = {}

class Recorder:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in FORBIDDEN and top not in importers:
            frame = sys._getframe(1)
            while frame and frame.f_globals.get("__name__") in SKIP:
                frame = frame.f_back
            importers[top] = frame.f_globals.get("__name__") if frame else "?"
        return None

sys.meta_path.insert(0, Recorder())
importlib.import_module(sys.argv[1])
loaded = sorted({name.partition(".")[0] for name in sys.modules} & FORBIDDEN)
print(json.dumps({"loaded": loaded, "importers": importers}))
"""


def forbidden_imports_of(module: str) -> dict[str, str]:
    """Forbidden top-level packages loaded by importing ``module`` alone → their importer."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, module, ",".join(FORBIDDEN)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(result.stdout)
    return {name: report["importers"].get(name, "?") for name in report["loaded"]}


def test_the_core_package_holds_the_engine() -> None:
    names = {module.rpartition(".")[2] for module in CORE}
    assert {
        "periods",
        "rules",
        "compliance",
        "summaries",
        "assessment",
        "workdays",
        "access",
    } <= names


@pytest.mark.parametrize("module", CORE)
def test_a_core_module_imports_no_io_library(module: str) -> None:
    found = forbidden_imports_of(module)
    assert set(found.items()) <= TOLERATED, f"{module} loads {found}"


def test_the_probe_notices_a_forbidden_import_and_names_its_importer() -> None:
    found = forbidden_imports_of("scheduler.store.database")
    assert found.get("sqlalchemy", "").startswith("scheduler.")
