"""The screens' words, from gettext catalogs kept as text: ``assets/locale/<lang>/LC_MESSAGES/
paykiosk.po``.

There is no build step and no compiled ``.mo`` in the repository: each ``.po`` is read when the
UI starts, turned into ``.mo`` bytes in memory and handed to Python's own
:class:`gettext.GNUTranslations`. The catalogs are ours and simple (``msgid`` / ``msgstr``, plain
or continued strings, comments; no plurals or contexts): :func:`parse_po` refuses anything else
rather than guess. Message ids are the English texts, so the English catalog may leave
``msgstr`` empty (gettext then returns the id).
"""

from __future__ import annotations

import ast
import gettext
import io
import struct
from pathlib import Path

from kiosk.core.view import LANGUAGES

DOMAIN = "paykiosk"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "assets" / "locale"


class CatalogError(ValueError):
    """A ``.po`` file this reader does not understand (file and line in the text)."""


def parse_po(text: str, name: str = "<po>") -> dict[str, str]:
    """msgid → msgstr of a simple ``.po`` file (the header entry included, under "")."""
    entries: dict[str, str] = {}
    key: str | None = None
    current: list[str] | None = None
    msgid: list[str] = []
    msgstr: list[str] = []

    def flush() -> None:
        if msgid or msgstr:
            entries["".join(msgid)] = "".join(msgstr)

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{name}:{number}"
        if line.startswith("msgid "):
            flush()
            msgid, msgstr = [], []
            key, current, line = "msgid", msgid, line[6:]
        elif line.startswith("msgstr "):
            if key != "msgid":
                raise CatalogError(f"{where}: msgstr without msgid")
            key, current, line = "msgstr", msgstr, line[7:]
        elif not line.startswith('"'):
            raise CatalogError(f"{where}: unsupported line {line!r} (plurals, contexts?)")
        if current is None or not (line.startswith('"') and line.endswith('"')):
            raise CatalogError(f"{where}: expected a quoted string")
        current.append(ast.literal_eval(line))
    flush()
    return entries


def mo_bytes(entries: dict[str, str]) -> bytes:
    """The GNU ``.mo`` form of a catalog (what ``msgfmt`` writes, without a hash table)."""
    ids = sorted(entries)
    id_blobs = [i.encode() for i in ids]
    str_blobs = [entries[i].encode() for i in ids]
    count = len(ids)
    header = 7 * 4
    ids_table = header
    strs_table = ids_table + 8 * count
    data = strs_table + 8 * count
    offsets: list[int] = []
    blob = b""
    for item in id_blobs + str_blobs:
        offsets += [len(item), data + len(blob)]
        blob += item + b"\0"
    head = struct.pack("<7I", 0x950412DE, 0, count, ids_table, strs_table, 0, 0)
    return head + struct.pack(f"<{4 * count}I", *offsets) + blob


def load_catalog(lang: str, locale_dir: Path = LOCALE_DIR) -> gettext.GNUTranslations:
    path = locale_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    entries = parse_po(path.read_text(encoding="utf-8"), str(path))
    entries = {k: v for k, v in entries.items() if v or not k}  # empty msgstr: use the id
    return gettext.GNUTranslations(io.BytesIO(mo_bytes(entries)))


class Texts:
    """The current language and its catalog; ``texts("Charge")`` translates."""

    def __init__(self, lang: str = LANGUAGES[0], locale_dir: Path = LOCALE_DIR) -> None:
        self._catalogs = {code: load_catalog(code, locale_dir) for code in LANGUAGES}
        self.lang = lang

    @property
    def lang(self) -> str:
        return self._lang

    @lang.setter
    def lang(self, lang: str) -> None:
        if lang not in self._catalogs:
            raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
        self._lang = lang

    def other(self) -> str:
        """The language the toggle switches to."""
        return LANGUAGES[(LANGUAGES.index(self._lang) + 1) % len(LANGUAGES)]

    def __call__(self, message: str) -> str:
        return self._catalogs[self._lang].gettext(message)
