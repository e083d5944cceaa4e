"""``shelf``: a test-only plugin in the template's shape, wired entirely by the host's conventions.

Its ``plugin.py`` names it and nothing else: models, migrations, schema, relations, operations,
demo and routes are found by name (see :mod:`byway.conventions`).
"""
