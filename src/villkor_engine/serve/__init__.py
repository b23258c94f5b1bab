"""`villkor serve`: the engine as a web service (ASGI, FastAPI) and the workbench page.

The app calls `villkor_engine.api` only; see `app.py`.
"""

from .app import Limits, create_app

__all__ = ["Limits", "create_app"]
