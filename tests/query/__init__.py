"""Tests of the read-only query module and the rex CLI."""
