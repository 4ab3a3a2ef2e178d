"""Training of the street-scene segmentation model (Cityscapes' 8 categories)."""
