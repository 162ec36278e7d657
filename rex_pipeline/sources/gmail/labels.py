"""Gmail labels: Takeout's `X-Gmail-Labels` and the API's `labelIds`, mapped to the few system
labels that change how a message is read (sent, draft, spam, trash, chat).

Takeout writes label *display names* in the account's UI language, so each system label is
recognised by its API id and by its common display names. A miss is safe: an unrecognised
"Sent" still comes out outbound when its sender is one of the org's own addresses.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

SENT, DRAFT, SPAM, TRASH, CHAT = "sent", "draft", "spam", "trash", "chat"

_NAMES: dict[str, tuple[str, ...]] = {
    SENT: (
        "SENT", "Sent", "Sent Mail", "Sent Messages", "Gesendet", "Envoyés", "Messages envoyés",
        "Enviados", "Enviado", "Correos enviados", "E-mails enviados", "Inviati",
        "Posta inviata", "Verzonden", "Verzonden berichten", "Отправленные", "Wysłane",
        "Skickat", "Sendt", "Lähetetyt", "Odeslané", "Elküldött", "Gönderilmiş Postalar",
        "Gönderilenler", "Απεσταλμένα", "送信済みメール", "已发邮件", "已发送邮件", "寄件備份",
        "보낸편지함",
    ),
    DRAFT: (
        "DRAFT", "Draft", "Drafts", "Entwürfe", "Brouillons", "Borradores", "Rascunhos",
        "Bozze", "Concepten", "Черновики", "Wersje robocze", "Utkast", "Kladder", "Luonnokset",
        "Koncepty", "Piszkozatok", "Taslaklar", "Πρόχειρα", "下書き", "草稿", "임시보관함",
    ),
    SPAM: (
        "SPAM", "Spam", "Junk", "Pourriel", "Spam-Ordner", "Спам", "Skräppost", "Roskaposti",
        "Nevyžádaná pošta", "Ανεπιθύμητα", "迷惑メール", "垃圾邮件", "垃圾郵件", "스팸함",
    ),
    TRASH: (
        "TRASH", "Trash", "Bin", "Papierkorb", "Corbeille", "Papelera", "Lixeira", "Lixo",
        "Cestino", "Prullenbak", "Корзина", "Kosz", "Papperskorgen", "Papirkurv", "Roskakori",
        "Koš", "Kuka", "Çöp Kutusu", "Κάδος απορριμμάτων", "ゴミ箱", "已删除邮件", "垃圾桶",
        "휴지통",
    ),
    CHAT: ("CHAT", "Chat", "Chats", "Czat", "Chatt", "Чат", "チャット", "聊天", "채팅"),
}  # fmt: skip


def _fold(label: str) -> str:
    return unicodedata.normalize("NFC", label).strip().casefold()


_SYSTEM: dict[str, str] = {_fold(name): flag for flag, names in _NAMES.items() for name in names}


_CACHED_UP_TO = 1000  # longer label values (hostile ones) are not kept in the caches


def parse_label_header(value: str | None) -> tuple[str, ...]:
    """A decoded `X-Gmail-Labels` value (`Inbox,Important,"Kunden, A-Z",Gesendet`) -> label
    names. Labels holding commas are quoted, so it is split like a CSV row. A function of the
    value alone, and a mailbox has few distinct label sets: computed once per value."""
    if not value:
        return ()
    return _labels(value) if len(value) <= _CACHED_UP_TO else _labels.__wrapped__(value)


@lru_cache(maxsize=4096)
def _labels(value: str) -> tuple[str, ...]:
    row = next(csv.reader([value], skipinitialspace=True), [])
    return tuple(label.strip() for label in row if label.strip())


def system_flags(labels: Iterable[str]) -> frozenset[str]:
    """Which system labels (sent, draft, spam, trash, chat) the labels include."""
    if isinstance(labels, tuple) and len(labels) <= 50 and sum(map(len, labels)) <= _CACHED_UP_TO:
        return _tuple_flags(labels)  # once per distinct tuple (asked twice per message)
    return _flags(labels)


def _flags(labels: Iterable[str]) -> frozenset[str]:
    return frozenset(flag for label in labels if (flag := _SYSTEM.get(_fold(label))))


_tuple_flags = lru_cache(maxsize=4096)(_flags)
