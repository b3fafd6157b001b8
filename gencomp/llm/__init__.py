"""Causal language models as next-byte predictors (transformers)."""
