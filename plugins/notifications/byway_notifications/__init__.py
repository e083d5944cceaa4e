"""Byway ``notifications`` plugin: email sent for the other plugins.

Installed as the ``byway-notifications`` distribution; the host finds it through the
``byway.plugins`` entry point ``notifications = "byway_notifications.plugin"``.
"""
