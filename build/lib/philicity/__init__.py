"""Screening of metal-philic coatings for Li/Na/K metal anodes."""
__version__ = "0.1.0"
