"""Byway ``teach`` plugin: teacher profiles, linked to ``authentication`` users and verified by admins.

Installed as the ``byway-teach`` distribution; the host finds it through the ``byway.plugins``
entry point ``teach = "byway_teach.plugin"``.
"""
