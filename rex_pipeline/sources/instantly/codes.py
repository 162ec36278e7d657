"""Instantly's vocabularies (API v2 and webhooks) and what each value means for our records.

Exports give the same facts as numeric codes (API: `status: -1`), as UI labels (CSV: `Lead Status:
Bounced`) or as webhook event names (`email_bounced`); every table here is keyed by the
normalised form (`exprs.vocab`: lower case, `_` between words, codes as they are) so the
spellings land on one name.
"""

from __future__ import annotations

from dataclasses import dataclass

# Lead `status` (API code or UI label) -> name.
LEAD_STATUS: dict[str, str] = {
    "1": "active",
    "2": "paused",
    "3": "completed",
    "-1": "bounced",
    "-2": "unsubscribed",
    "-3": "skipped",
    **{name: name for name in ("active", "paused", "completed", "bounced", "unsubscribed")},
    "skipped": "skipped",
}

# Lead `lt_interest_status` (API code or UI label) -> name; the UI shows "Lead" for none.
INTEREST_STATUS: dict[str, str | None] = {
    "0": "out_of_office",
    "1": "interested",
    "2": "meeting_booked",
    "3": "meeting_completed",
    "4": "won",
    "-1": "not_interested",
    "-2": "wrong_person",
    "-3": "lost",
    "-4": "no_show",
    "out_of_office": "out_of_office",
    "interested": "interested",
    "meeting_booked": "meeting_booked",
    "meeting_completed": "meeting_completed",
    "won": "won",
    "closed": "won",
    "not_interested": "not_interested",
    "wrong_person": "wrong_person",
    "lost": "lost",
    "no_show": "no_show",
    "neutral": "neutral",
    "lead": None,
}

# Statuses that must stop anyone mailing the lead again: kept as tags, never lost in a merge.
DO_NOT_MAIL_STATUSES = ("bounced", "unsubscribed")

# Interest names worth a tag (out-of-office and neutral are passing states, not facts).
TAGGED_INTERESTS = (
    "interested",
    "meeting_booked",
    "meeting_completed",
    "won",
    "not_interested",
    "wrong_person",
    "lost",
    "no_show",
)

# Interest -> contact stage; the merge keeps the most advanced stage, so this never goes back.
STAGE_BY_INTEREST: dict[str, str] = {
    "interested": "prospect",
    "meeting_booked": "prospect",
    "meeting_completed": "prospect",
    "won": "customer",
}
STAGE_RANK: dict[str, int] = {"lead": 0, "prospect": 1, "customer": 2}

# Email object `ue_type`: 1 sent by campaign, 2 reply received, 3 sent manually, 4 scheduled.
OUTBOUND_UE_TYPES = ("1", "3", "4")
INBOUND_UE_TYPES = ("2",)
SCHEDULED_UE_TYPES = ("4",)


@dataclass(frozen=True)
class EventMeaning:
    """What a webhook event becomes as an activity. `direction` says whose message the event is
    about: ours (sent, opened, clicked, bounced), theirs (replies) or none (state changes)."""

    type: str
    subtype: str | None
    direction: str
    status: str = "completed"
    is_message: bool = False  # the event *is* an email, whose `email_id` is the /emails id


_EMAIL = "email"
EVENTS: dict[str, EventMeaning] = {
    "email_sent": EventMeaning(_EMAIL, None, "outbound", is_message=True),
    "email_opened": EventMeaning(_EMAIL, "open", "outbound"),
    "email_link_clicked": EventMeaning(_EMAIL, "click", "outbound"),
    "reply_received": EventMeaning(_EMAIL, "reply", "inbound", is_message=True),
    "auto_reply_received": EventMeaning(_EMAIL, "auto_reply", "inbound", is_message=True),
    "email_bounced": EventMeaning(_EMAIL, "bounce", "outbound"),
    "lead_unsubscribed": EventMeaning(_EMAIL, "unsubscribe", "na"),
    "lead_interested": EventMeaning("other", "interested", "na"),
    "lead_not_interested": EventMeaning("other", "not_interested", "na"),
    "lead_neutral": EventMeaning("other", "neutral", "na"),
    "lead_meeting_booked": EventMeaning("meeting", "meeting_booked", "na", status="scheduled"),
    "lead_meeting_completed": EventMeaning("meeting", "meeting_completed", "na"),
    "lead_closed": EventMeaning("other", "won", "na"),
    "lead_out_of_office": EventMeaning("other", "out_of_office", "na"),
    "lead_wrong_person": EventMeaning("other", "wrong_person", "na"),
    "lead_no_show": EventMeaning("other", "no_show", "na"),
    "lead_lost": EventMeaning("other", "lost", "na"),
}
# Other spellings seen in archives and older integrations ('email.sent', 'link_clicked' ...).
EVENT_SYNONYMS: dict[str, str] = {
    "email_send": "email_sent",
    "email_open": "email_opened",
    "link_clicked": "email_link_clicked",
    "email_clicked": "email_link_clicked",
    "email_replied": "reply_received",
    "email_reply": "reply_received",
    "auto_reply": "auto_reply_received",
    "email_bounce": "email_bounced",
    "email_unsubscribed": "lead_unsubscribed",
    "meeting_booked": "lead_meeting_booked",
    "meeting_completed": "lead_meeting_completed",
    "lead_won": "lead_closed",
}
# The lead's state an event reveals (kept on the contact like a lead export's status).
STATUS_BY_SUBTYPE: dict[str, str] = {"bounce": "bounced", "unsubscribe": "unsubscribed"}
