"""moto_server with one request at a time.

moto's DynamoDB `TransactWriteItems` is not atomic under concurrent requests (it checks
conditions, writes, and on failure restores a copy of the whole table, racing with other
threads), so two racing transactions can both pass a version check, and a cancelled one can leave
writes behind or erase another's. DynamoDB guarantees both; to test the store's concurrency
against a faithful emulator, every request is handled under one lock.

    python serial_moto.py -H 127.0.0.1 -p PORT
"""

import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_lock = threading.Lock()
_call = DomainDispatcherApplication.__call__


def _serial(self, environ, start_response):
    with _lock:
        return list(_call(self, environ, start_response))


DomainDispatcherApplication.__call__ = _serial

from moto.server import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])
