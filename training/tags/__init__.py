"""The music-tag decision model's stages (the Mewo challenge): from a tagger's scores to
yes/no tags."""
