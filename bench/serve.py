"""Serve the benchmark's app with uvicorn, one worker (started by ``bench/run.py`` as its own process).

    python bench/serve.py --data-dir DIR [--database-url URL] --port PORT

The databases must already be migrated and filled (``run.py`` does it); the JWT secret is the test
secret, so the tokens ``run.py`` signs are valid here. Logging is set up as ``byway serve`` does.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from bench_world import core_plugins

from byway.app import create_app, served
from byway.logs import setup_logging
from byway.testing import make_settings

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = make_settings(args.data_dir, database_url=args.database_url, auto_migrate=False)
    setup_logging(settings)  # as ``byway serve`` does: an access-log line per request
    app = served(create_app(settings, core_plugins()))  # as ``byway serve`` runs it (tune_gc)
    uvicorn.run(app, host="127.0.0.1", port=args.port, workers=1, log_level="warning", access_log=False)
