#!/usr/bin/env python3
"""Print a Cognito ID token for a seeded officer of a local stack (for the officer API).

    officer_token.py --stack .dev/stack.json --user xh-handler [--password Demo-12336-local]
"""

import argparse
import json
import sys
from pathlib import Path

import boto3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stack", type=Path, default=Path(".dev/stack.json"))
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", default="Demo-12336-local")
    args = ap.parse_args()
    stack = json.loads(args.stack.read_text(encoding="utf-8"))
    c = boto3.client("cognito-idp", endpoint_url=stack["endpoint"], region_name=stack["region"],
                     aws_access_key_id="test", aws_secret_access_key="test")
    r = c.admin_initiate_auth(
        UserPoolId=stack["resources"]["OfficerUserPool"]["ref"],
        ClientId=stack["resources"]["OfficerUserPoolClient"]["ref"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": args.user, "PASSWORD": args.password},
    )
    print(r["AuthenticationResult"]["IdToken"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
