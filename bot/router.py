"""Which command a text is for, and its arguments: prefixes, mentions, full-width forms, +N, suggestions."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from handlers.args import MAX_QTY, read_quantity
from handlers.registry import BY_NAME, BY_WORD, COMMANDS, Command

# Full-width digits, letters, colon, plus, slash, hash and the ideographic space read as half-width, one
# character for one (so offsets into the original stay valid). Other full-width forms, such as the Chinese
# comma "，", are content and stay as typed.
_HALF = {0x3000: " ", ord("："): ":", ord("＋"): "+", ord("／"): "/", ord("＃"): "#"}
_HALF.update({c: chr(c - 0xFEE0) for c in range(ord("０"), ord("９") + 1)})
_HALF.update({c: chr(c - 0xFEE0) for c in range(ord("Ａ"), ord("Ｚ") + 1)})
_HALF.update({c: chr(c - 0xFEE0) for c in range(ord("ａ"), ord("ｚ") + 1)})
_MENTIONS = re.compile(r"(?:@\S+\s*)+")
# `+2`, `+ 2`, `+2件`, `+两件`, `+2 42码`: the 接龙 habit; what follows the quantity goes to the parser too.
_PLUS = re.compile(r"^\+\s*(\S+)(?:\s+(.*))?$", re.DOTALL)
_CJK = re.compile(r"[\u3400-\u9fff]")
# A text longer than this is talk whoever it is addressed to: no command is that long, and a pasted
# article should be counted as activity, not parsed or answered.
MAX_COMMAND_CHARS = 4000
# Chinese words may be glued to an ASCII argument ("下单A12"), never to more Chinese ("商品很好" is talk).
_ZH_WORDS = sorted((w for w, (_, lang) in BY_WORD.items() if lang == "zh"), key=len, reverse=True)


@dataclass(frozen=True)
class Routed:
    command: Command | None  # None: addressed to the bot but no known command
    lang: str  # "zh" | "en"
    rest: str  # the text after the command word, full-width forms read as half-width
    word: str  # the word as typed
    raw_rest: str = ""  # the same text exactly as typed (for free text such as a push's content)


def normalize(text: str) -> str:
    """Full-width digits, letters, colon and plus read as half-width; outer space trimmed."""
    return text.translate(_HALF).strip()


def route(text: str, *, is_private: bool = False, mentions_bot: bool = False) -> Routed | None:
    """The command a text is for; None when it is group talk the bot stays silent on."""
    if len(text) > MAX_COMMAND_CHARS:
        return None
    raw = text.strip()
    norm = raw.translate(_HALF)  # same length as raw: every position means the same character
    pos = 0
    if mentions_bot:
        m = _MENTIONS.match(norm)  # "@tuanbot 下单 A12": drop the mention itself
        pos = m.end() if m else 0
    addressed = is_private or mentions_bot
    if norm[pos:pos + 1] in ("/", "#"):
        addressed = True
        pos += 1
    while pos < len(norm) and norm[pos].isspace():
        pos += 1
    t = norm[pos:]
    if not t:
        return Routed(BY_NAME["help"], "zh", "", "") if addressed else None

    plus = _PLUS.match(t)
    if plus and 1 <= (read_quantity(plus.group(1)) or 0) <= MAX_QTY:  # "+0" is talk
        rest = t[1:].strip()
        return Routed(BY_NAME["plus"], "zh", rest, "+", rest)

    word = t.split(None, 1)[0]
    hit = BY_WORD.get(word.lower())
    if hit is not None:
        return _routed(hit[0], hit[1], raw, norm, pos + len(word), word)
    for zh in _ZH_WORDS:
        if t.startswith(zh) and len(t) > len(zh) and t[len(zh)].isascii() and t[len(zh)].isalnum():
            return _routed(BY_WORD[zh][0], "zh", raw, norm, pos + len(zh), zh)
    if not addressed:
        return None
    return Routed(None, "zh" if _CJK.search(word) else "en", t[len(word):].strip(), word)


def _routed(cmd: Command, lang: str, raw: str, norm: str, args_at: int, word: str) -> Routed:
    return Routed(cmd, lang, norm[args_at:].strip(), word, raw[args_at:].strip())


# How close a typed word must be to a command word to be offered as "did you mean": difflib's ratio
# (2 × matching characters / total length). 0.5 keeps one wrong character of a two-character Chinese
# word (帮组 -> 帮助, 下丹 -> 下单); English words are longer and share letters by chance (thanks/stats
# 0.55, morning/join 0.55), so they need 0.6 (hlep -> help 0.75, ordres -> orders 0.83). Talk such as
# 大家好 scores 0 against every command.
NEAR_CUTOFF = {"zh": 0.5, "en": 0.6}


def nearest_command(word: str, lang: str) -> str | None:
    """The listed command word closest to what was typed, in the language it was typed in; None when none is close."""
    words = [w for c in COMMANDS if c.listed for w in (c.zh if lang == "zh" else c.en)]
    best = difflib.get_close_matches(word.lower(), words, n=1, cutoff=NEAR_CUTOFF.get(lang, 0.6))
    return best[0] if best else None
