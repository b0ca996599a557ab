"""wechatpy as an independent oracle for the Rust `wechat` crate's interop tests.

Reads one JSON request on stdin, writes one JSON answer on stdout. Commands:

  push        wechatpy signs and encrypts the listed messages as WeChat pushes them
              (query + body) for the Rust callback to accept.
  open_reply  wechatpy verifies and decrypts replies the Rust callback sealed, and parses them.
  open_push   wechatpy verifies and decrypts pushes the Rust platform side built (the simulator).
  echo        wechatpy checks server-verification signatures the Rust platform side built.

Only wechatpy's public API is used: WeChatCrypto, check_signature, parse_message.
"""

import json
import sys

import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import WeChatSigner, check_signature


def signature(*parts):
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def cmd_push(req):
    crypto = WeChatCrypto(req["token"], req["key"], req["appid"])
    out = []
    for m in req["messages"]:
        ts, nonce = str(m["timestamp"]), m["nonce"]
        # wechatpy's envelope holds Encrypt and MsgSignature; WeChat puts the signature in the
        # query and ToUserName + Encrypt in the body. Rebuild that shape from wechatpy's output.
        envelope = xmltodict.parse(crypto.encrypt_message(m["xml"], nonce, ts))["xml"]
        body = (
            "<xml><ToUserName><![CDATA[%s]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt></xml>"
            % (m["account_id"], envelope["Encrypt"])
        )
        out.append(
            {
                "query": {
                    "signature": signature(req["token"], ts, nonce),
                    "timestamp": ts,
                    "nonce": nonce,
                    "openid": m["openid"],
                    "encrypt_type": "aes",
                    "msg_signature": envelope["MsgSignature"],
                },
                "body": body,
            }
        )
    return out


def describe(msg):
    d = {"type": msg.type, "source": msg.source, "target": msg.target}
    for attr in ("content", "event", "media_id"):
        v = getattr(msg, attr, None)
        if v is not None:
            d[attr] = v
    return d


def cmd_open_reply(req):
    crypto = WeChatCrypto(req["token"], req["key"], req["appid"])
    out = []
    for env in req["replies"]:
        d = xmltodict.parse(env)["xml"]
        try:
            plain = crypto.decrypt_message(env, d["MsgSignature"], d["TimeStamp"], d["Nonce"])
        except InvalidSignatureException:
            out.append({"error": "signature"})
            continue
        out.append(describe(parse_message(plain)))
    return out


def cmd_open_push(req):
    crypto = WeChatCrypto(req["token"], req["key"], req["appid"])
    out = []
    for p in req["pushes"]:
        q = p["query"]
        ok_plain = True
        try:
            check_signature(req["token"], q["signature"], q["timestamp"], q["nonce"])
        except InvalidSignatureException:
            ok_plain = False
        plain = crypto.decrypt_message(p["body"], q["msg_signature"], q["timestamp"], q["nonce"])
        d = describe(parse_message(plain))
        d["plain_signature_ok"] = ok_plain
        out.append(d)
    return out


def cmd_echo(req):
    out = []
    for q in req["queries"]:
        try:
            check_signature(req["token"], q["signature"], q["timestamp"], q["nonce"])
            out.append(True)
        except InvalidSignatureException:
            out.append(False)
    return out


COMMANDS = {
    "push": cmd_push,
    "open_reply": cmd_open_reply,
    "open_push": cmd_open_push,
    "echo": cmd_echo,
}


def main():
    req = json.load(sys.stdin)
    json.dump(COMMANDS[req["command"]](req), sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
