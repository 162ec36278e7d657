"""`python -m rex_pipeline`: the same as the `rex` command."""

from rex_pipeline.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
