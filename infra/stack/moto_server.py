"""moto_server whose DynamoDB requests are handled one at a time.

moto's DynamoDB `TransactWriteItems` is not atomic under concurrent requests (it checks
conditions, writes, and on failure restores a copy of the whole table, racing with other
threads): two racing transactions can both pass a version check, and a cancelled one can leave
writes behind or erase another's. DynamoDB guarantees both, and the store relies on it. So every
DynamoDB request here runs under one lock, as DynamoDB's own serialisation would have it; other
services (SQS long polls above all) stay concurrent.

    python infra/stack/moto_server.py -H 127.0.0.1 -p PORT

Used by `infra/dev up`, `shared/testkit` and the store's tests.
"""

import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_dynamodb = threading.Lock()
_call = DomainDispatcherApplication.__call__


def _dispatch(self, environ, start_response):
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith("DynamoDB"):
        with _dynamodb:
            return list(_call(self, environ, start_response))
    return _call(self, environ, start_response)


DomainDispatcherApplication.__call__ = _dispatch

from moto.server import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])
