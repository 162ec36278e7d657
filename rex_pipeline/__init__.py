"""rex_pipeline: a local-first sync engine for go-to-market data (see the README)."""

from rex_pipeline.allocator import keep_freed_memory_longer

keep_freed_memory_longer()  # before anything imports polars: see allocator.py
