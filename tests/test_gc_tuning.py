"""A served process tunes its garbage collector once it has started (byway.app.served / tune_gc)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from byway.app import create_app, served, tune_gc
from byway.settings import ConfigurationError, load_settings
from byway.testing import make_settings, serve_app


@pytest.fixture
def stock_gc() -> Iterator[None]:
    """Python's collector as the test found it, restored afterwards."""
    threshold = gc.get_threshold()
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


async def test_a_served_app_freezes_start_up_and_raises_the_young_threshold(tmp_path: Path, stock_gc: None) -> None:
    middle, oldest = gc.get_threshold()[1:]
    app = served(create_app(make_settings(tmp_path, gc_young_threshold=12_345), []))
    assert gc.get_freeze_count() == 0  # nothing before start-up
    async with serve_app(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert gc.get_threshold() == (12_345, middle, oldest)
        assert gc.get_freeze_count() > 0


async def test_zero_leaves_the_collector_alone(tmp_path: Path, stock_gc: None) -> None:
    before = gc.get_threshold()
    async with serve_app(served(create_app(make_settings(tmp_path, gc_young_threshold=0), []))) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    tune_gc(0)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_the_threshold_is_a_setting_and_must_not_be_negative(tmp_path: Path) -> None:
    config = tmp_path / "byway.toml"
    config.write_text("[byway]\n")
    environ = {"BYWAY_DATA_DIR": str(tmp_path), "BYWAY_GC_YOUNG_THRESHOLD": "5000"}
    assert load_settings(environ, config).gc_young_threshold == 5000
    with pytest.raises(ConfigurationError, match="BYWAY_GC_YOUNG_THRESHOLD"):
        load_settings({**environ, "BYWAY_GC_YOUNG_THRESHOLD": "-1"}, config)
