# Loaded by the local environment's moto_server only (it is put on moto's PYTHONPATH), so that the seed
# can write a database's history in the past: moto stamps every instance and snapshot "now". Without
# FRONTIER_DR_MOTO_CLOCK, or with 0 in the file it names, moto's clock is its own. moto takes every
# "now" from moto.core.utils.utcnow, which this replaces before any moto module imports it.
import datetime
import os

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
