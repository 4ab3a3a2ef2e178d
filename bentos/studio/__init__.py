"""The cover studio: durable runs of any pipeline (the marketplace API) and the cover page."""
