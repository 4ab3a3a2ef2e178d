"""Thin async client of the marketplace services (no torch: ``pip install .[client]``)."""

from pipeline_client.errors import ServiceError
from pipeline_client.genre import GenreClient

__all__ = ["GenreClient", "ServiceError"]
