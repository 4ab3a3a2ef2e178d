"""Summarisation service (BART): condenses long lyrics for the cover prompt."""
