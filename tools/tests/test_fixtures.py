"""The committed C-test fixtures are reproduced by tools/make_fixtures.py (relative L2 <= 1e-6)."""
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch", reason="python3-torch is not installed: fixtures cannot be regenerated")

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(os.path.dirname(TOOLS), "tests", "fixtures", "reference")


def test_regeneration_reproduces_committed_fixtures():
    r = subprocess.run([sys.executable, os.path.join(TOOLS, "make_fixtures.py"), "--check", FIXTURES],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "45 of 45 fixture tensors reproduce" in r.stdout


def test_fixtures_stay_within_budget():
    total = 0
    for root, _, files in os.walk(os.path.dirname(FIXTURES)):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    assert total <= 5 * 1024 * 1024, f"tests/fixtures holds {total} bytes, over the 5 MB budget"
