"""A non-editable install carries the UI's data: the wheel holds the catalogs and sounds where
the screens look for them (``assets/`` beside ``screens/``)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_carries_the_catalogs_and_sounds(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("paykiosk-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "assets/locale/ja/LC_MESSAGES/paykiosk.po",
        "assets/locale/en/LC_MESSAGES/paykiosk.po",
        *(
            f"assets/sounds/{name}"
            for name in sorted(p.name for p in (ROOT / "assets" / "sounds").glob("*.wav"))
        ),
        "screens/i18n.py",
        "kiosk/app/cli.py",
    }
    assert len([n for n in expected if n.endswith(".wav")]) >= 4
    assert expected <= names, sorted(expected - names)
    assert not any(n.startswith("tests/") or n.startswith("bench/") for n in names)
