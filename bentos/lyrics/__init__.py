"""Lyrics analysis service: emotions, sentiment, language and keywords."""
