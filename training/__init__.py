"""Training of the genre model: DVC stages prepare, featurize, train, evaluate, register.

Features and network come from ``bentos.genre``, so training and serving cannot drift.
"""
