"""moto_server that handles one request at a time (SQS long polls wait outside the lock).

moto's DynamoDB `TransactWriteItems` is not atomic under concurrent requests (it checks
conditions, writes, and on failure restores a copy of the whole table, racing with other
threads): two racing transactions can both pass a version check, and a cancelled one can leave
writes behind or erase another's. DynamoDB guarantees both, and the store relies on it; with
concurrent requests notify's tests also saw a FIFO group's order broken. So every request runs under one lock; an SQS long poll
(`WaitTimeSeconds`) becomes short polls with the lock released in between, so it holds up no one.

moto also deep-copies the whole table once per item of every transaction (its rollback copy),
which makes transactions slower as the table grows: tests with thousands of items (notify's 500
notices) would take many minutes. Under the lock, the rollback copy only needs the items the
transaction touches: the copy here shares every other item with the live table and deep-copies
just the touched ones, once per transaction. Rollback restores exactly what moto's would.

    python infra/stack/moto_server.py -H 127.0.0.1 -p PORT

Used by `infra/dev up`, `shared/testkit` and the store's tests.
"""

import copy
import io
import json
import sys
import threading
import time
from collections import defaultdict

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_lock = threading.Lock()
_call = DomainDispatcherApplication.__call__


def _serialised(self, environ, start_response):
    with _lock:
        return list(_call(self, environ, start_response))


def _long_poll(self, environ, start_response):
    """SQS ReceiveMessage with WaitTimeSeconds: polled without waiting, the lock released between
    polls, until a message comes or the wait is over, so a long poll never holds up the others."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        request = json.loads(raw or b"{}")
    except ValueError:
        request = None
    if not isinstance(request, dict) or not request.get("WaitTimeSeconds"):
        environ["wsgi.input"] = io.BytesIO(raw)
        return _serialised(self, environ, start_response)
    deadline = time.monotonic() + float(request["WaitTimeSeconds"])
    request["WaitTimeSeconds"] = 0
    body = json.dumps(request).encode()
    while True:
        env = dict(environ)
        env["wsgi.input"] = io.BytesIO(body)
        env["CONTENT_LENGTH"] = str(len(body))
        answer = {}

        def capture(status, headers, exc_info=None):
            answer["start"] = (status, headers)
            return lambda _data: None

        out = b"".join(_serialised(self, env, capture))
        try:
            got = bool(json.loads(out or b"{}").get("Messages"))
        except ValueError:
            got = True
        if got or time.monotonic() >= deadline or not answer["start"][0].startswith("200"):
            start_response(*answer["start"])
            return [out]
        time.sleep(0.1)


def _dispatch(self, environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "") == "AmazonSQS.ReceiveMessage":
        return _long_poll(self, environ, start_response)
    return _serialised(self, environ, start_response)


DomainDispatcherApplication.__call__ = _dispatch

_deepcopy = copy.deepcopy
_transact = DynamoDBBackend.transact_write_items


def _touched(transact_items):
    """table name -> [(hash key, range key or None)] as DynamoDB JSON values."""
    out = defaultdict(list)
    for item in transact_items:
        _, op = next(iter(item.items()))
        out[op.get("TableName")].append(op.get("Key") or op.get("Item") or {})
    return out


def _snapshot(table, keys):
    snap = copy.copy(table)
    snap.items = defaultdict(dict)
    for h, v in table.items.items():
        snap.items[h] = dict(v) if isinstance(v, dict) else v
    for key in keys:
        hv = key.get(table.hash_key_attr)
        if hv is None or DynamoType(hv) not in table.items:
            continue
        h = DynamoType(hv)
        current = table.items[h]
        rv = key.get(table.range_key_attr) if table.range_key_attr else None
        if rv is None:
            snap.items[h] = _deepcopy(current)
        elif DynamoType(rv) in current:
            snap.items[h][DynamoType(rv)] = _deepcopy(current[DynamoType(rv)])
    return snap


def _transact_with_cheap_rollback_copy(self, transact_items):
    touched = _touched(transact_items)
    snapshots = {}

    def deepcopy(obj, memo=None):
        if isinstance(obj, Table):
            if obj.name not in snapshots:
                snapshots[obj.name] = _snapshot(obj, touched.get(obj.name, []))
            return snapshots[obj.name]
        return _deepcopy(obj, memo)

    copy.deepcopy = deepcopy
    try:
        return _transact(self, transact_items)
    finally:
        copy.deepcopy = _deepcopy


DynamoDBBackend.transact_write_items = _transact_with_cheap_rollback_copy

from moto.server import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])
