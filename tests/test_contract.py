"""The executable contract examples of ../shared/contract, run through the installed command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CONTRACT, ROOT, SCENARIOS, huiqi_executable


@pytest.mark.skipif(not SCENARIOS, reason="../shared/contract is not beside the project")
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_installed_command_keeps_the_contract(scenario: str) -> None:
    bin_dir = str(Path(huiqi_executable()).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("HUIQI_DATABASE_URL", None)
    env.pop("HUIQI_RULES", None)
    result = subprocess.run(
        [sys.executable, str(CONTRACT / "run.py"), str(CONTRACT / scenario)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 differences" in result.stdout
