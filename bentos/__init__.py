"""Model services of the AI Marketplace, one BentoML service per sub-package."""
