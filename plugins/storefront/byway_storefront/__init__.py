"""Byway ``storefront`` plugin: a server-rendered web front end at ``/``.

It owns no data: every page reads and writes through the other plugins' public GraphQL
operations, called through the cross-plugin client on behalf of the signed-in user (whose
tokens live in an HttpOnly cookie), so it works the same when those plugins run elsewhere.
"""
