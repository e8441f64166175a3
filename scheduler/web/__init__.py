"""The web face (FastAPI, served by uvicorn; `scheduler.web.app.create_app`): pages, forms,
imports, the JSON API, calendar feeds and logins.

Imports every layer below it (capabilities, store, transports, readers, core); never the CLI.
"""
