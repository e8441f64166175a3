"""The database: engine and sessions, models, migrations (Alembic), the fact loader that feeds
the core, unit and people imports (`registry`), events (`evidence`), waivers and their requests
(`waivers`), reports, accounts and the change trail (`trail`), which every service writing
data writes in the same transaction.

Imports the core and the deployment readers (config, tables); never a capability or a face.
"""
