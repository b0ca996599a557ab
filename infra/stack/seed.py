#!/usr/bin/env python3
"""Seed demo data into a deployed local stack.

    seed.py --stack .dev/stack.json --data infra/seed/demo.json

Officers go to the stack's Cognito user pool (username, password, `custom:bureau_id`,
`custom:roles`); divisions, bureaus and officers go to the table as items:

| item     | pk                  | sk         | gsi1pk                    | gsi1sk             | other attributes                                   |
|----------|---------------------|------------|---------------------------|--------------------|----------------------------------------------------|
| division | `DIVISION#<code>`   | `DIVISION` | `DIVISIONS#<parent code>` | `<code>`           | code, name, level                                  |
| bureau   | `BUREAU#<id>`       | `BUREAU`   | `BUREAUS`                 | `<id>`             | data (the domain's Bureau as JSON), city_direct       |
| officer  | `OFFICER#<sub>`     | `OFFICER`  | `BUREAU#<bureau id>`      | `OFFICER#<sub>`      | data (the domain's Officer as JSON)              |

A simple format for the demo; the store issue refines it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import boto3


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
    cognito = boto3.client("cognito-idp", **kw)
    pool = stack["resources"]["OfficerUserPool"]["ref"]

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
    rows = []
    for o in data["officers"]:
        if o["bureau"] not in bureaus:
            print(f"seed: officer {o['username']} names unknown bureau {o['bureau']}", file=sys.stderr)
            return 1
        attrs = [
            {"Name": "custom:bureau_id", "Value": o["bureau"]},
            {"Name": "custom:roles", "Value": ",".join(o["roles"])},
        ]
        user = cognito.admin_create_user(
            UserPoolId=pool, Username=o["username"], UserAttributes=attrs, MessageAction="SUPPRESS",
            TemporaryPassword=o["password"],
        )["User"]
        cognito.admin_set_user_password(UserPoolId=pool, Username=o["username"], Password=o["password"], Permanent=True)
        sub = next((a["Value"] for a in user.get("Attributes", []) if a["Name"] == "sub"), "")
        # The store's officer item (shared/store/src/item.rs `officer_item`), keyed by the token's
        # subject: the officer API resolves bureau and roles from it, never from token claims.
        officer = {"id": sub, "bureau": o["bureau"], "roles": o["roles"]}
        table.put_item(
            Item={
                "pk": f"OFFICER#{sub}",
                "sk": "OFFICER",
                "type": "officer",
                "data": json.dumps(officer, ensure_ascii=False),
                "gsi1pk": f"BUREAU#{o['bureau']}",
                "gsi1sk": f"OFFICER#{sub}",
            }
        )
        rows.append((o["username"], o["password"], o["bureau"], ",".join(o["roles"])))

    client = stack["resources"]["OfficerUserPoolClient"]["ref"]
    print(f"seeded {len(data['divisions'])} divisions, {len(data['bureaus'])} bureaus, {len(rows)} officers")
    print(f"officers (Cognito pool {pool}, app client {client}):")
    for user, pw, bureau, roles in rows:
        print(f"  {user:<14} password {pw:<18} bureau {bureau:<12} roles {roles}")
    print("an officer's ID token (for Authorization: Bearer …):")
    print(
        f"  .venv/bin/python infra/stack/officer_token.py --stack {args.stack} --user xh-handler"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
