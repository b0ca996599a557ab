#!/usr/bin/env python3
"""Print the H5 session cookie value (`rs`) of a new WeChat user of the simulator, signed in
through the platform's OAuth exactly as the H5 page is (for curl and the API fuzzer).

    reporter_session.py [--api http://127.0.0.1:3000] [--sim http://127.0.0.1:9010] [--nickname NAME]

Creates the user at the simulator, follows `GET /api/reporter/login` to the simulator's
authorize URL (keeping the `rs_login` nonce cookie), takes a code for the user from the
simulator's control API and ends at `GET /api/reporter/oauth`, whose answer sets `rs`.
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def call(method, url, body=None, cookie=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if cookie:
        req.add_header("cookie", cookie)
    try:
        resp = OPENER.open(req, timeout=30)
    except urllib.error.HTTPError as e:  # a 302 without a handler lands here
        resp = e
    return resp.status, resp.headers, resp.read()


def set_cookie(headers, name):
    for v in headers.get_all("set-cookie") or []:
        if v.startswith(name + "="):
            return v.split(";", 1)[0].split("=", 1)[1]
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--api", default=f"http://127.0.0.1:{os.environ.get('API_PORT', '3000')}")
    ap.add_argument("--sim", default=f"http://127.0.0.1:{os.environ.get('SIM_PORT', '9010')}")
    ap.add_argument("--nickname", default="接口测试")
    args = ap.parse_args()
    _, _, body = call("POST", f"{args.sim}/_sim/users", {"nickname": args.nickname})
    openid = json.loads(body)["openid"]
    status, headers, _ = call("GET", f"{args.api}/api/reporter/login?return=%23%2Fmine")
    nonce = set_cookie(headers, "rs_login")
    location = headers.get("location", "")
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).get("state", [None])[0]
    if status != 302 or not nonce or not state:
        print(f"reporter_session.py: login answered {status} without a state and nonce", file=sys.stderr)
        return 1
    _, _, body = call("POST", f"{args.sim}/_sim/oauth/code", {"openid": openid})
    code = json.loads(body)["code"]
    query = urllib.parse.urlencode({"code": code, "state": state})
    status, headers, _ = call("GET", f"{args.api}/api/reporter/oauth?{query}", cookie=f"rs_login={nonce}")
    session = set_cookie(headers, "rs")
    if status != 302 or not session:
        print(f"reporter_session.py: oauth answered {status} without a session", file=sys.stderr)
        return 1
    print(session)
    return 0


if __name__ == "__main__":
    sys.exit(main())
