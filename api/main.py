"""The ASGI app uvicorn serves (settings from the environment)."""

from api.app import create_app

app = create_app()
