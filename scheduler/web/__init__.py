"""The HTTP app (FastAPI, served by uvicorn): `create_app(settings)` in `scheduler.web.app`."""

from scheduler.web.app import create_app

__all__ = ["create_app"]
