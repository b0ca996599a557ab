#!/usr/bin/env python3
"""Seed demo data into a deployed local stack.

    seed.py --stack .dev/stack.json --data infra/seed/demo.json

Divisions, bureaus and officers go to the table as items. Officers are accounts of the
platform's own issuer (the auth function; `shared/store/src/accounts.rs`): the officer item, its
account (argon2id hash of the demo password, an enrolled TOTP secret) and its user name. An
officer with `"first_login": true` in the data starts with a temporary password and no second
factor, to show the first sign-in (new password, TOTP enrolment with a QR code).

| item     | pk                  | sk         | gsi1pk                    | gsi1sk             | other attributes                                   |
|----------|---------------------|------------|---------------------------|--------------------|----------------------------------------------------|
| division | `DIVISION#<code>`   | `DIVISION` | `DIVISIONS#<parent code>` | `<code>`           | code, name, level                                  |
| bureau   | `BUREAU#<id>`       | `BUREAU`   | `BUREAUS`                 | `<id>`             | data (the domain's Bureau as JSON), city_direct       |
| officer  | `OFFICER#<sub>`     | `OFFICER`  | `BUREAU#<bureau id>`      | `OFFICER#<sub>`    | data (the domain's Officer as JSON)                |
| account  | `OFFICER#<sub>`     | `ACCOUNT`  |                           |                    | officer, username, password_hash, totp_secret, …   |
| login    | `LOGIN#<username>`  | `LOGIN`    |                           |                    | officer                                            |

The demo officers' user names, passwords and TOTP secrets are printed and written to
`.dev/officers.json` (local demo values; `officer_token.py` signs in with them).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import secrets
import struct
import sys
import time
from pathlib import Path

import boto3
from argon2 import PasswordHasher

# The auth function's argon2id parameters (functions/auth/src/password.rs).
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16)


def totp_code(secret_b32: str, at: float, step: int = 30) -> str:
    """RFC 6238 (SHA-1, 6 digits, 30 s), as the auth function checks it."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at) // step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def level(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def parent(code: str) -> str | None:
    if level(code) == "province":
        return None
    if level(code) == "city":
        return code[:2] + "0000"
    return code[:4] + "00"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stack", required=True, type=Path)
    ap.add_argument("--data", required=True, type=Path)
    args = ap.parse_args()
    stack = json.loads(args.stack.read_text(encoding="utf-8"))
    data = json.loads(args.data.read_text(encoding="utf-8"))
    kw = dict(endpoint_url=stack["endpoint"], region_name=stack["region"], aws_access_key_id="test", aws_secret_access_key="test")
    table = boto3.resource("dynamodb", **kw).Table(stack["resources"]["Table"]["ref"])

    with table.batch_writer() as batch:
        for code, name in data["divisions"]:
            item = {"pk": f"DIVISION#{code}", "sk": "DIVISION", "code": code, "name": name, "level": level(code)}
            if parent(code):
                item.update(gsi1pk=f"DIVISIONS#{parent(code)}", gsi1sk=code)
            batch.put_item(Item=item)
        for b in data["bureaus"]:
            # The store's bureau item (shared/store/src/item.rs `bureau_item`): the domain's
            # Bureau as JSON in `data`, listed under GSI1 `BUREAUS`.
            bureau = {
                "id": b["id"],
                "name": b["name"],
                "region": b["region"],
                "level": b["level"],
                "kind": b["kind"],
                "division": b.get("division"),
                "city_direct": bool(b.get("city_direct", False)),
            }
            batch.put_item(
                Item={
                    "pk": f"BUREAU#{b['id']}",
                    "sk": "BUREAU",
                    "type": "bureau",
                    "data": json.dumps(bureau, ensure_ascii=False),
                    "city_direct": bureau["city_direct"],
                    "gsi1pk": "BUREAUS",
                    "gsi1sk": b["id"],
                }
            )

    bureaus = {b["id"] for b in data["bureaus"]}
    rows, accounts = [], {}
    for o in data["officers"]:
        if o["bureau"] not in bureaus:
            print(f"seed: officer {o['username']} names unknown bureau {o['bureau']}", file=sys.stderr)
            return 1
        sub = f"demo-{o['username']}"
        first_login = bool(o.get("first_login", False))
        officer = {"id": sub, "bureau": o["bureau"], "roles": o["roles"]}
        table.put_item(
            Item={
                "pk": f"OFFICER#{sub}", "sk": "OFFICER", "type": "officer",
                "data": json.dumps(officer, ensure_ascii=False),
                "gsi1pk": f"BUREAU#{o['bureau']}", "gsi1sk": f"OFFICER#{sub}",
            }
        )
        account = {
            "pk": f"OFFICER#{sub}", "sk": "ACCOUNT", "type": "account", "officer": sub,
            "username": o["username"], "password_hash": HASHER.hash(o["password"]),
            "must_change_password": first_login, "failures": 0,
        }
        secret = ""
        if not first_login:
            secret = base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")
            account["totp_secret"] = secret
        table.put_item(Item=account)
        table.put_item(Item={"pk": f"LOGIN#{o['username']}", "sk": "LOGIN", "type": "login", "officer": sub})
        accounts[o["username"]] = {"sub": sub, "password": o["password"], "totp_secret": secret}
        rows.append((o["username"], o["password"], secret, o["bureau"], ",".join(o["roles"])))

    out = args.stack.parent / "officers.json"
    out.write_text(json.dumps(accounts, indent=1), encoding="utf-8")
    print(f"seeded {len(data['divisions'])} divisions, {len(data['bureaus'])} bureaus, {len(rows)} officers")
    print(f"officers (sign in at the officer console; local demo values, also in {out}):")
    now = time.time()
    for user, pw, secret, bureau, roles in rows:
        factor = f"TOTP secret {secret} (code now {totp_code(secret, now)})" if secret else "first sign-in: new password + TOTP enrolment"
        print(f"  {user:<14} password {pw:<18} {factor}  bureau {bureau} roles {roles}")
    print("an officer's access token (for Authorization: Bearer …), signed in through the auth API:")
    print(f"  .venv/bin/python infra/stack/officer_token.py --stack {args.stack} --user xh-handler")
    return 0


if __name__ == "__main__":
    sys.exit(main())
