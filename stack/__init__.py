"""Running the marketplace on this machine: the services' processes and the demo.

``stack.local`` starts BentoML services and stops them (for ``make stack``, the demo, the
tests and the benchmarks); ``stack.demo`` is ``make demo``. Neither is part of the thin
client or of any Bento.
"""
