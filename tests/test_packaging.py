"""A non-editable install must carry models/ and config/ (the wheel bundles them)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_carries_models_and_config(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("sendguard-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "scanner/_assets/config/policy.toml" in names
    assert "scanner/_assets/config/sendguard.toml" in names
    shipped_models = {p.relative_to(ROOT).as_posix() for p in (ROOT / "models").rglob("*") if p.is_file()}
    assert shipped_models, "models/ is empty"
    for rel in shipped_models:
        assert f"scanner/_assets/{rel}" in names
    assert "scanner/py.typed" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "sendguard = scanner.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()
