"""The GraphiQL playground of each plugin, with its assets served by the app itself (no CDN)."""

from __future__ import annotations

import html
import json
from pathlib import Path

#: Where the vendored GraphiQL build lives in the package, and where the app serves it.
STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/_byway/static"

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="stylesheet" href="{assets}/graphiql.min.css">
  <style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
  <div id="graphiql">Loading the {name} playground…</div>
  <script src="{assets}/react.production.min.js"></script>
  <script src="{assets}/react-dom.production.min.js"></script>
  <script src="{assets}/graphiql.min.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({{ url: {endpoint} }});
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {{
        fetcher,
        defaultQuery: {default_query},
        defaultHeaders: {default_headers},
        defaultEditorToolsVisibility: true,
      }})
    );
  </script>
</body>
</html>
"""

DEFAULT_QUERY = '# Send a token in the Headers tab: {"Authorization": "Bearer <token>"}\n{ __typename }\n'


def playground_html(plugin: str, endpoint: str) -> str:
    """The playground page of ``plugin``, querying ``endpoint`` (its ``/api/<plugin>/graphql``)."""
    return _PAGE.format(
        title=html.escape(f"Byway · {plugin}"),
        name=html.escape(plugin),
        assets=f"{STATIC_PATH}/graphiql",
        endpoint=json.dumps(endpoint),
        default_query=json.dumps(DEFAULT_QUERY),
        default_headers=json.dumps("{}"),
    )
