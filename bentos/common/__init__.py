"""Code shared by every model service: audio decoding, settings, schemas, errors.

Importing this package must stay light (no torch): the thin client uses its schemas.
"""
