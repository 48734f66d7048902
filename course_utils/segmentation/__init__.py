"""Nuclei segmentation helpers: the classical baseline and instance matching metrics."""
