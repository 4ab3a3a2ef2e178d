"""The AI Marketplace: its contracts (torch-free), its catalogue, pipelines and engine.

Layers, each importing only those before it: ``marketplace.contracts`` (the services'
list, the catalogue and pipeline definition models) <- the services (``bentos``) and the
engine and clients <- the studio. Importing this package does nothing else.
"""


def run(pipeline, **kwargs):
    """Run a pipeline (a shipped name, a file or a definition); see :mod:`marketplace.runner`."""
    from marketplace.runner import run as _run

    return _run(pipeline, **kwargs)
