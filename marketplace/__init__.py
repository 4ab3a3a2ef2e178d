"""The AI Marketplace: its contracts (torch-free), its catalogue, pipelines and engine.

Layers, each importing only those before it: ``marketplace.contracts`` (the services'
list, the catalogue and pipeline definition models) <- the services (``bentos``) and the
engine and clients <- the studio. Importing this package does nothing else.
"""
