"""What the services, the engine and the studio share: torch-free, BentoML-free."""
