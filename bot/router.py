"""Which command a text is for, and its arguments: prefixes, mentions, full-width forms, +N, suggestions."""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from handlers.registry import BY_NAME, BY_WORD, COMMANDS, Command

_PLUS = re.compile(r"^\+\s*(\d+)(?:\s+.*)?$", re.DOTALL)
_CJK = re.compile(r"[\u3400-\u9fff]")
# Chinese words may be glued to an ASCII argument ("下单A12"), never to more Chinese ("商品很好" is talk).
_ZH_WORDS = sorted((w for w, (_, lang) in BY_WORD.items() if lang == "zh"), key=len, reverse=True)


@dataclass(frozen=True)
class Routed:
    command: Command | None  # None: addressed to the bot but no known command
    lang: str  # "zh" | "en"
    rest: str  # the text after the command word
    word: str  # the word as typed


def normalize(text: str) -> str:
    """Full-width digits, letters, colon and plus read as half-width (NFKC); outer space trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def route(text: str, *, is_private: bool = False, mentions_bot: bool = False) -> Routed | None:
    """The command a text is for; None when it is group talk the bot stays silent on."""
    t = normalize(text)
    if mentions_bot:
        t = re.sub(r"^(?:@\S+\s*)+", "", t)  # "@tuanbot 下单 A12": drop the mention itself
    addressed = is_private or mentions_bot
    if t[:1] in ("/", "#"):
        addressed = True
        t = t[1:].lstrip()
    if not t:
        return Routed(BY_NAME["help"], "zh", "", "") if addressed else None

    plus = _PLUS.match(t)
    if plus and "plus" in BY_NAME:
        return Routed(BY_NAME["plus"], "zh", plus.group(1), "+")

    word, _, rest = t.partition(" ")
    hit = BY_WORD.get(word.lower())
    if hit is not None:
        return Routed(hit[0], hit[1], rest.strip(), word)
    for zh in _ZH_WORDS:
        if t.startswith(zh) and len(t) > len(zh) and t[len(zh)].isascii() and t[len(zh)].isalnum():
            return Routed(BY_WORD[zh][0], "zh", t[len(zh):].strip(), zh)
    if not addressed:
        return None
    return Routed(None, "zh" if _CJK.search(word) else "en", rest.strip(), word)


def nearest_command(word: str, lang: str) -> str:
    """The listed command word closest to what was typed, in the language it was typed in."""
    words = [w for c in COMMANDS if c.listed for w in (c.zh if lang == "zh" else c.en)]
    best = difflib.get_close_matches(word.lower(), words, n=1, cutoff=0.0)
    return best[0] if best else words[0]
