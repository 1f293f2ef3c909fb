#!/usr/bin/env python3
"""Play WeCom against a running tuanbot: send what a WeCom intelligent robot's callback sends.

Independent of tuanbot (Python standard library and `cryptography` only): it encrypts a callback
the way WeCom does, posts it to /wecom/aibot, checks the answer's signature, decrypts it and
prints the JSON inside. Token and key come from TUANBOT_AIBOT_TOKEN / TUANBOT_AIBOT_AES_KEY.

    python docs/aibot_send.py verify                          # the URL check the console does on 保存
    python docs/aibot_send.py text "@团购助手 团购" --user alice  # a member @-mentions the robot in a group
    python docs/aibot_send.py click join:1:2 --user bob         # bob taps "+2" on group buy 1's card
    python docs/aibot_send.py refresh MSGID                      # WeCom asks for a stream again
    python docs/aibot_send.py event enter_chat --single          # someone opens a chat with the robot
    python docs/aibot_send.py image --user alice                 # a picture

Exit status: 0 with an answer or an empty one, 1 when the server refused the request (4xx/5xx)
or the answer's signature or encryption does not check out.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeCom pads to 32 bytes (PKCS#7 with a 32-byte block), not AES's 16


class BadAnswer(Exception):
    """The server's answer is not what WeCom would accept."""


def aes_key(encoding_aes_key: str) -> bytes:
    return base64.b64decode(encoding_aes_key + "=")


def encrypt(encoding_aes_key: str, plaintext: str, receive_id: str = "", *, wrong_padding: bool = False) -> str:
    """16 random bytes, 4-byte big-endian length, the message, the receive id; padded, AES-256-CBC, base64.
    `wrong_padding`: the last padding byte lies about the padding's length (tests send that)."""
    key = aes_key(encoding_aes_key)
    message = plaintext.encode()
    raw = secrets.token_bytes(16) + struct.pack(">I", len(message)) + message + receive_id.encode()
    padder = padding.PKCS7(BLOCK * 8).padder()
    raw = padder.update(raw) + padder.finalize()
    if wrong_padding:
        n = raw[-1]
        raw = raw[:-1] + bytes([n - 1 if n > 1 else 2])
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(raw) + encryptor.finalize()).decode()


def decrypt(encoding_aes_key: str, encrypted: str) -> tuple[str, str]:
    """(message, receive id) of an encrypted text; BadAnswer when the padding or length is wrong."""
    key = aes_key(encoding_aes_key)
    data = base64.b64decode(encrypted, validate=True)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    raw = decryptor.update(data) + decryptor.finalize()
    n = raw[-1] if raw else 0
    if not 1 <= n <= BLOCK or raw[-n:] != bytes([n]) * n:
        raise BadAnswer("wrong padding")
    raw = raw[:-n]
    (length,) = struct.unpack(">I", raw[16:20])
    if 20 + length > len(raw):
        raise BadAnswer("length beyond the plaintext")
    return raw[20:20 + length].decode(), raw[20 + length:].decode()


def sign(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted((token, timestamp, nonce, encrypted))).encode()).hexdigest()


def signed_query(token: str, encrypted: str, *, timestamp: str | None = None, nonce: str | None = None) -> dict:
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or secrets.token_hex(6)
    return {"msg_signature": sign(token, timestamp, nonce, encrypted), "timestamp": timestamp, "nonce": nonce}


def callback(token: str, encoding_aes_key: str, payload: dict) -> tuple[dict, bytes]:
    """The query parameters and JSON body of one callback carrying `payload`."""
    encrypted = encrypt(encoding_aes_key, json.dumps(payload, ensure_ascii=False))
    return signed_query(token, encrypted), json.dumps({"encrypt": encrypted}).encode()


def open_answer(token: str, encoding_aes_key: str, body: bytes, nonce: str) -> dict | None:
    """The JSON inside an answer, after checking it as WeCom would; None for an empty body."""
    if not body:
        return None
    outer = json.loads(body)
    if set(outer) != {"encrypt", "msgsignature", "timestamp", "nonce"}:
        raise BadAnswer(f"answer keys {sorted(outer)}")
    if outer["nonce"] != nonce:
        raise BadAnswer("the answer's nonce is not the request's")
    if sign(token, str(outer["timestamp"]), outer["nonce"], outer["encrypt"]) != outer["msgsignature"]:
        raise BadAnswer("msgsignature does not verify")
    message, receive_id = decrypt(encoding_aes_key, outer["encrypt"])
    if receive_id != "":
        raise BadAnswer(f"receive id {receive_id!r}, expected empty")
    return json.loads(message)


def message(kind: str, *, msgid: str, user: str, chat: str | None, body: dict | None = None) -> dict:
    """A callback payload as WeCom builds it; `chat` None: a single (one-to-one) chat."""
    payload = {"msgid": msgid, "aibotid": "AIBOTID", "create_time": int(time.time()),
               "chattype": "single" if chat is None else "group", "from": {"userid": user},
               "response_url": "https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=X",
               "msgtype": kind}
    if chat is not None:
        payload["chatid"] = chat
    if body is not None:
        payload[kind] = body
    return payload


def payload_for(args: argparse.Namespace) -> dict:
    chat = None if args.single else args.chat
    msgid = args.msgid or "m" + secrets.token_hex(8)
    if args.what == "text":
        return message("text", msgid=msgid, user=args.user, chat=chat, body={"content": " ".join(args.args)})
    if args.what == "voice":
        return message("voice", msgid=msgid, user=args.user, chat=chat, body={"content": " ".join(args.args)})
    if args.what == "image":
        return message("image", msgid=msgid, user=args.user, chat=chat, body={"url": "https://example.com/x.jpg"})
    if args.what == "click":
        event = {"eventtype": "template_card_event", "template_card_event": {
            "card_type": "button_interaction", "event_key": args.args[0], "task_id": args.task_id or "t1"}}
        return message("event", msgid=msgid, user=args.user, chat=chat, body=event)
    if args.what == "event":
        return message("event", msgid=msgid, user=args.user, chat=chat, body={"eventtype": args.args[0]})
    if args.what == "refresh":
        return message("stream", msgid=msgid, user=args.user, chat=chat, body={"id": args.args[0]})
    raise SystemExit(f"unknown kind {args.what}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=["verify", "text", "voice", "image", "click", "event", "refresh"])
    p.add_argument("args", nargs="*")
    p.add_argument("--url", default="http://127.0.0.1:8000/wecom/aibot")
    p.add_argument("--user", default="alice")
    p.add_argument("--chat", default="wrGROUP1", help="the group's chatid")
    p.add_argument("--single", action="store_true", help="a one-to-one chat instead of the group")
    p.add_argument("--msgid", help="default: a fresh one (repeat one to see the dedupe)")
    p.add_argument("--task-id", help="the clicked card's task_id")
    args = p.parse_args(argv)
    token, key = os.environ.get("TUANBOT_AIBOT_TOKEN", ""), os.environ.get("TUANBOT_AIBOT_AES_KEY", "")
    if not token or len(key) != 43:
        raise SystemExit("set TUANBOT_AIBOT_TOKEN and TUANBOT_AIBOT_AES_KEY (43 characters), as the server has them")
    try:
        if args.what == "verify":
            echo = secrets.token_hex(8)
            encrypted = encrypt(key, echo)
            query = signed_query(token, encrypted)
            with urllib.request.urlopen(f"{args.url}?{urllib.parse.urlencode({**query, 'echostr': encrypted})}") as r:
                got = r.read().decode()
            print(f"verify: {'ok' if got == echo else 'WRONG'} ({got!r})")
            return 0 if got == echo else 1
        query, body = callback(token, key, payload_for(args))
        req = urllib.request.Request(f"{args.url}?{urllib.parse.urlencode(query)}", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as r:
            answer = open_answer(token, key, r.read(), query["nonce"])
    except urllib.error.HTTPError as e:
        print(f"refused: HTTP {e.code} {e.read().decode(errors='replace')}")
        return 1
    except BadAnswer as e:
        print(f"bad answer: {e}")
        return 1
    print(json.dumps(answer, ensure_ascii=False, indent=2) if answer is not None else "(empty answer)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
