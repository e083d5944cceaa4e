"""Alembic environment shared by all plugins.

The host (``byway.migrate``) builds the Alembic ``Config`` in code and passes, through
``config.attributes``: the open ``connection``, the plugin's ``target_metadata`` and its own
``version_table``. Each plugin's revisions live in its own package (``version_locations``).
"""

from alembic import context

from byway.db import UTCDateTime

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run Byway migrations with 'byway migrate', not the alembic command")

metadata = config.attributes["target_metadata"]
own_tables = set(metadata.tables)
#: Objects a plugin's migrations manage by hand (e.g. a full-text index particular to one database):
#: ``metadata.info["unmanaged"]``, never compared by autogenerate.
unmanaged = set(metadata.info.get("unmanaged", ()))


def include_name(name, type_, parent_names):  # type: ignore[no-untyped-def]
    # Several plugins may share one database: only this plugin's tables are compared.
    if name in unmanaged:
        return False
    if type_ == "table":
        return name in own_tables
    return True


def render_item(type_, obj, autogen_context):  # type: ignore[no-untyped-def]
    # Revisions must not import Byway: UTCDateTime is stored as (and rendered as) its impl type.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=config.attributes["version_table"],
    render_as_batch=connection.dialect.name == "sqlite",
    include_name=include_name,
    render_item=render_item,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
