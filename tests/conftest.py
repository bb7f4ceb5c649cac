"""Shared pytest fixtures. Fixture modules live beside this file and are imported here."""

from tests.registry_fixture import auth_registry, registry  # noqa: F401 - pytest fixtures
