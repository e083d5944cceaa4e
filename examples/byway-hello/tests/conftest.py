"""Test set-up of byway-hello.

Installed (``pip install -e examples/byway-hello``) the package is importable as is; the lines
below only let the repository's own test run find it without installing it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("byway_hello") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
