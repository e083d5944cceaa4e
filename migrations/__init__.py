"""The Alembic environment shared by every Byway plugin (installed as ``byway._migrations``)."""
