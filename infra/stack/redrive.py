"""Move the messages of the notice dead-letter queue back to notice.fifo.

    infra/dev redrive                       # the local stack (.dev/stack.json)
    python infra/stack/redrive.py --stack PATH
    python infra/stack/redrive.py --queue URL --dlq URL [--endpoint URL]   # AWS: no --endpoint

A message lands in the dead-letter queue after `MaxReceiveCount` failed receives (the alarm
`notice-dlq-not-empty` fires). Once the cause is fixed, this moves each message back: same body
(ids only) and message group (the clue, so the clue's notices stay in order), a fresh
deduplication id (the notice id would be dropped by SQS within its 5-minute window), then
deletes it from the dead-letter queue. `notify` records every delivery before deleting its
message, so a redriven message whose notice was meanwhile delivered (e.g. re-enqueued by the
sweep) is acknowledged without a second send.

Receive + send + delete (rather than StartMessageMoveTask) works on every emulator and keeps the
FIFO attributes.
"""

import argparse
import json
import sys
from pathlib import Path

import boto3


def sqs_client(endpoint: str | None):
    if endpoint:
        session = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        )
        return session.client("sqs", endpoint_url=endpoint)
    return boto3.client("sqs")


def redrive(sqs, dlq: str, queue: str) -> int:
    moved = 0
    while True:
        out = sqs.receive_message(
            QueueUrl=dlq,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            VisibilityTimeout=60,
            WaitTimeSeconds=0,
        )
        messages = out.get("Messages", [])
        if not messages:
            return moved
        for m in messages:
            attrs = m.get("Attributes", {})
            group = attrs.get("MessageGroupId")
            if not group:
                # A notice message always has its clue as group; keep anything else for a person.
                print(f"skipping message {m['MessageId']} without a message group", file=sys.stderr)
                continue
            sqs.send_message(
                QueueUrl=queue,
                MessageBody=m["Body"],
                MessageGroupId=group,
                MessageDeduplicationId=f"redrive-{m['MessageId']}",
            )
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=m["ReceiptHandle"])
            moved += 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stack", help="stack.json written by deploy.py (local stack)")
    p.add_argument("--queue", help="notice.fifo URL")
    p.add_argument("--dlq", help="notice dead-letter queue URL")
    p.add_argument("--endpoint", help="emulator endpoint (omit on AWS)")
    a = p.parse_args(argv)
    queue, dlq, endpoint = a.queue, a.dlq, a.endpoint
    if a.stack:
        stack = json.loads(Path(a.stack).read_text(encoding="utf-8"))
        res = stack["resources"]
        queue = queue or res["NoticeQueue"]["ref"]
        dlq = dlq or res["NoticeDeadLetterQueue"]["ref"]
        endpoint = endpoint or stack.get("endpoint")
    if not queue or not dlq:
        p.error("give --stack, or --queue and --dlq")
    moved = redrive(sqs_client(endpoint), dlq, queue)
    print(f"redrive: {moved} message(s) moved back to the notice queue")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
