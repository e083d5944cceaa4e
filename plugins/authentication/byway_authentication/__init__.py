"""Byway ``authentication`` plugin: user accounts, argon2 password hashes, login tokens and roles.

Installed as the ``byway-authentication`` distribution; the host finds it through the
``byway.plugins`` entry point ``authentication = "byway_authentication.plugin"``.
"""
