"""What kind of email a message is: a bounce, an out-of-office auto-reply, a reply, or none of
these; and which senders are machines that must never become contacts.

Headers decide first (`X-Failed-Recipients`, delivery-status reports, `Auto-Submitted`,
`In-Reply-To`); subject prefixes in the common UI languages catch mailers that omit them.
"""

from __future__ import annotations

import re

from rex_pipeline.sources.gmail.headers import Address

BOUNCE, AUTO_REPLY, REPLY = "bounce", "auto_reply", "reply"

# Local parts of addresses that send mail on their own: never a contact, never a counterparty.
MACHINE_LOCAL_PART = (
    r"(?:mailer-daemon|postmaster|bounces?(?:[-+._][^@]*)?"
    r"|[^@]*(?:no[-_.]?reply|do[-_.]?not[-_.]?reply)[^@]*)"
)
MACHINE_ADDRESS_PATTERN = rf"(?i)^{MACHINE_LOCAL_PART}@"  # also used by polars (Rust regex)
_MACHINE = re.compile(MACHINE_ADDRESS_PATTERN)
_DAEMON = re.compile(r"(?i)^(?:mailer-daemon|postmaster)@")

_LIST_TAG = r"^\s*(?:\[[^\]]*\]\s*)?"
_REPLY_SUBJECT = re.compile(
    _LIST_TAG + r"(?:re|aw|sv|vs|antw|odp|ynt|r|rif|ref|réf|res|απ|回复|回覆|答复)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：]",
    re.IGNORECASE,
)
_FORWARD_SUBJECT = re.compile(
    _LIST_TAG + r"(?:fwd?|wg|tr|rv|enc|doorst|vl|fs|i|pd|转发|轉寄)\s*[:：]", re.IGNORECASE
)
_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(?:out of (?:the )?office|automatic reply|auto[- ]?reply|autoreply|auto:|"
    r"abwesenheitsnotiz|automatische antwort|réponse automatique|absence du bureau|"
    r"respuesta automática|fuera de la oficina|risposta automatica|fuori sede|"
    r"automatisch antwoord|afwezig|resposta automática|автоответ)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"delivery status notification \(failure\)|undeliver|undelivered mail|"
    r"mail delivery (?:failed|failure|subsystem)|delivery failure|failure notice|returned mail|"
    r"unzustellbar|non remis|no se puede entregar|non recapitabile",
    re.IGNORECASE,
)


def is_machine(email: str) -> bool:
    """mailer-daemon, postmaster, no-reply and friends."""
    return bool(_MACHINE.match(email))


def is_forward(subject: str | None) -> bool:
    return bool(subject and _FORWARD_SUBJECT.match(subject))


def subtype(
    *,
    sender: Address | None,
    subject: str | None,
    in_reply_to: str | None,
    failed_recipients: list[str],
    auto_submitted: str | None,
    autoreply_header: str | None,
) -> str | None:
    """bounce > auto_reply > reply > None (an out-of-office answer is also an answer, but the
    auto-reply is what an analyst needs to know)."""
    if failed_recipients or (
        sender and _DAEMON.match(sender.email) and subject and _BOUNCE_SUBJECT.search(subject)
    ):
        return BOUNCE
    auto_value = (auto_submitted or "").strip().lower()
    if (
        auto_value.startswith("auto-replied")
        or (autoreply_header or "no").strip().lower() not in ("no", "")
        or (subject and _AUTO_REPLY_SUBJECT.match(subject))
    ):
        return AUTO_REPLY
    if (subject and _REPLY_SUBJECT.match(subject)) or (in_reply_to and not is_forward(subject)):
        return REPLY
    return None
