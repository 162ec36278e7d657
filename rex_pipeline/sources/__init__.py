"""Source parsers: one sub-package per input folder of the inbox (`csv/`, `gmail/`, `instantly/`).

Each parser reads one file and returns a `records.ParsedFile` of *raw* staged frames — values as
the export gave them, mapped to our field names, with lineage — and never normalises values;
that is the normalise stage's job.
"""
