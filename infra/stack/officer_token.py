#!/usr/bin/env python3
"""Print an access token of a seeded officer of a local stack (for the officer API), signed in
through the auth API with the officer's password and a TOTP code, as the console does.

    officer_token.py --stack .dev/stack.json --user xh-handler [--api http://127.0.0.1:3000]

The demo officers' passwords and TOTP secrets are in `.dev/officers.json` (written by seed.py).
A TOTP code is accepted once: the last step used per officer is kept in
`.dev/officer-steps.json`, and the script waits for the next step when it must.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed import totp_code  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stack", type=Path, default=Path(".dev/stack.json"))
    ap.add_argument("--user", required=True)
    ap.add_argument("--api", default=f"http://127.0.0.1:{os.environ.get('API_PORT', '3000')}")
    args = ap.parse_args()
    officers = json.loads((args.stack.parent / "officers.json").read_text(encoding="utf-8"))
    o = officers.get(args.user)
    if o is None or not o["totp_secret"]:
        print(f"officer_token: {args.user} is not a seeded officer with a second factor", file=sys.stderr)
        return 1
    steps_file = args.stack.parent / "officer-steps.json"
    steps = json.loads(steps_file.read_text(encoding="utf-8")) if steps_file.exists() else {}
    step = max(int(time.time()) // 30, steps.get(args.user, -1) + 1)
    while step > int(time.time()) // 30 + 1:  # the server accepts one step ahead at most
        time.sleep(1)
    body = {"username": args.user, "password": o["password"], "code": totp_code(o["totp_secret"], step * 30)}
    req = urllib.request.Request(
        f"{args.api}/auth/sign-in", data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            answer = json.loads(r.read())
    except urllib.error.HTTPError as e:
        print(f"officer_token: sign-in refused: {e.code} {e.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    steps[args.user] = step
    steps_file.write_text(json.dumps(steps), encoding="utf-8")
    print(answer["access_token"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
