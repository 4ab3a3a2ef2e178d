"""Street-scene segmentation: a photo in, a mask of Cityscapes' 8 categories out."""
