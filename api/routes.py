"""Walking the app's routes (FastAPI wraps included routers; this flattens them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts


def api_routes(app: FastAPI) -> Iterator[Any]:
    """Every API route with its effective path, methods and dependant (docs UI excluded)."""
    for route in iter_route_contexts(app.routes):
        if getattr(route, "dependant", None) is not None and route.methods:
            yield route


def is_guarded(route: Any) -> bool:
    """Does the route depend on a role guard (see ``api.auth.role_guard``)?"""
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if getattr(dependant.call, "required_roles", None):
            return True
        stack.extend(dependant.dependencies)
    return False


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route serves at ``path``."""
    methods: set[str] = set()
    for route in api_routes(app):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods |= set(route.methods)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)
