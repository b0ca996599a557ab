"""wechatpy doing what benches/decrypt.rs times, on the same input (benches/fixture.json):
check msg_signature, decrypt, parse into a message object.

Run: python shared/wechat/benches/wechatpy_bench.py   (with infra/requirements-wechat.txt)
"""

import json
import os
import statistics
import timeit

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    with open(os.path.join(HERE, "fixture.json"), encoding="utf-8") as fh:
        f = json.load(fh)
    crypto = WeChatCrypto(f["token"], f["encoding_aes_key"], f["appid"])
    q, body = f["query"], f["body"]

    def once():
        plain = crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
        return parse_message(plain)

    msg = once()
    assert msg.type == "text" and msg.source == f["openid"], msg
    number = 2000
    runs = timeit.repeat(once, number=number, repeat=7)
    per_op_us = [r / number * 1e6 for r in runs]
    print(
        json.dumps(
            {
                "bench": "wechatpy verify+decrypt+parse text push",
                "median_us": round(statistics.median(per_op_us), 2),
                "min_us": round(min(per_op_us), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
