"""Gmail ingestion: Google Takeout `.mbox` files and Gmail API `.json`/`.jsonl` dumps in
`inbox/gmail/` become RAW email activities and RAW contacts.

Module map (data flows top to bottom):
- `mbox` streams a Takeout file message by message and cuts it into parts at separator lines;
  `api_json` finds API messages in a dump;
- `inputs` adapts both to one `RawMail` (`fastparse` builds the compat32 Message faster for
  the common shapes); `headers`, `labels`, `mime`, `text` read its parts;
- `message` turns it into `MessageFacts`; `classify` names bounces, auto-replies, replies;
- `collect` reads chunks of messages (`ChunkReader`, here or in a worker) and gathers them in
  file order (`FileCollector`), deciding direction, counterparty and contacts with `identity`
  (the org's own addresses and domains): at the end, or per chunk handed to a sink once a
  bytes-level header pre-scan has learnt the owner addresses (flat memory on huge files), or
  per chunk with the owners learnt so far (no pre-scan; LateOwnerError when that was wrong);
- `workers` runs the parts of a big mbox in a process pool (same output as reading here);
- `parse.parse_gmail_file` is the entry point.
"""

from rex_pipeline.sources.gmail.collect import LateOwnerError
from rex_pipeline.sources.gmail.parse import detect_format, parse_gmail_file

__all__ = ["LateOwnerError", "detect_format", "parse_gmail_file"]
