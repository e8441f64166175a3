"""The database: engine and sessions, models, migrations (Alembic), the fact loader that feeds
the core, imports and single records (`registry`), reports, accounts and the change trail.

Imports the core and the deployment readers (config, tables); never a capability or a face.
"""
