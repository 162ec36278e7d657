"""CSV ingestion: contact, company, deal, task and activity exports of any common dialect
(HubSpot, Salesforce, Apollo, LinkedIn, Google Contacts, Outlook, or any CSV whose headers the
alias table knows), recognised by header and read into raw staged records."""

from rex_pipeline.sources.csv.parser import parse_csv_file

__all__ = ["parse_csv_file"]
