"""The test suite itself: its test ids stay short enough to read in pytest's summary."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A node id (path::test[params]) is printed whole beside each xfail, skip and failure.
MAX_ID_LENGTH = 120


def test_collected_test_ids_are_short():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    ids = [line for line in result.stdout.splitlines() if "::" in line]
    assert len(ids) > 500, result.stdout[-2000:]
    long = sorted((len(i), i) for i in ids if len(i) > MAX_ID_LENGTH)
    assert not long, (
        f"test ids longer than {MAX_ID_LENGTH} characters (give the parametrisation ids=): {long}"
    )
