"""Transcription service (openai-whisper): the lyrics of a song, with timestamps."""
