# Loaded by the local environment's moto_server only (local/moto.ts puts this folder on its
# PYTHONPATH). Two things moto does not do as AWS does:
#
# 1. DynamoDB conditional writes are atomic in AWS; moto's server answers requests on threads, and
#    two PutItem calls with attribute_not_exists can both pass their check before either writes. The
#    recovery lock depends on that atomicity, so moto's DynamoDB writes run one at a time here.
# 2. moto stamps every instance and snapshot "now": the seed writes a database's history in the past
#    through FRONTIER_DR_MOTO_CLOCK (a file holding an offset in seconds; without it, or with 0 in it,
#    moto's clock is its own). moto takes every "now" from moto.core.utils.utcnow, which this replaces
#    before any moto module imports it.
import datetime
import functools
import os
import threading


def _serialise_dynamodb_writes():
    try:
        from moto.dynamodb.models import DynamoDBBackend
    except Exception:
        return
    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
        method = getattr(DynamoDBBackend, name, None)
        if method is None:
            continue

        def serialised(*args, __method=method, **kwargs):
            with lock:
                return __method(*args, **kwargs)

        functools.update_wrapper(serialised, method)
        setattr(DynamoDBBackend, name, serialised)


_clock_file = os.environ.get("FRONTIER_DR_MOTO_CLOCK")
if _clock_file:
    try:
        import moto.core.utils as _moto_utils
    except Exception:
        _moto_utils = None
    if _moto_utils is not None and hasattr(_moto_utils, "utcnow"):
        _moto_utcnow = _moto_utils.utcnow

        def _offset_seconds():
            try:
                with open(_clock_file) as f:
                    return float(f.read().strip() or 0)
            except (OSError, ValueError):
                return 0.0

        def utcnow():
            return _moto_utcnow() + datetime.timedelta(seconds=_offset_seconds())

        _moto_utils.utcnow = utcnow

# After the clock: importing moto's DynamoDB models imports moto.core.utils, whose utcnow must be
# replaced first.
_serialise_dynamodb_writes()
