"""FastAPI application: :func:`api.server.app.create_app`."""
