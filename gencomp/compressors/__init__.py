"""Compressors as next-byte predictors, through their code lengths."""
