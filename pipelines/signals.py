"""SIGINT (Ctrl-C) and SIGTERM (what orchestrators send) stop any stage within seconds, with one line saying what
was and was not committed, and exit 130 / 143.

dlt's own machinery does most of it (``dlt.common.runtime.signals``): once its flag is set, the loader starts no
new job (``[load] start_new_jobs_on_signal`` false), lets the running ones finish their transactions and raises
``SignalReceivedException``, and normalize stops the same way. Our handler sets that flag for the whole command
instead of dlt's per-step ``intercepted_signals`` (``[runtime] intercept_signals`` is turned off): dlt clears its
flag when a step ends, so a signal in the last moments of normalize was forgotten and the load ran to the end.
Inside normalize or load the handler only sets the flag (dlt drains and raises); anywhere else (extraction has
no hook) it also raises ``SignalReceivedException`` in the main thread at once, wherever it waits (a slow answer,
a window's future), and the flag makes the readers of answers in worker threads let go
(``sources/pendo/deadline.py``). A second signal while dlt drains raises at once.

Nothing a stopped run leaves behind is trusted: an extract-stage package is never loaded half, and a package whose
load began is abandoned by the next run, which extracts its data again (``pipelines/run.py`` ``_finish_pending``),
so the next run converges. Threads still reading a slow answer are not waited for: the process ends with
``os._exit`` after the line is printed, as after a kill, which the crash tests show is safe.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType, TracebackType
from typing import Any, NoReturn

from dlt.common.exceptions import SignalReceivedException
from dlt.common.runtime import signals as dlt_signals

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
NAMES = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}
STEPS = ("extract", "normalize", "load")
_pipeline: Any = None  # the pipeline of this command, to say what its interrupted load had committed


def install() -> None:
    """Route SIGINT and SIGTERM through :func:`_receive` for the rest of the command (main thread only)."""
    os.environ["RUNTIME__INTERCEPT_SIGNALS"] = "false"  # ours covers every step, and never forgets a signal
    for sig in EXIT_CODES:
        signal.signal(sig, _receive)


def watch(pipeline: Any) -> None:
    global _pipeline
    _pipeline = pipeline


def _receive(sig: int, frame: FrameType | None) -> None:
    first = not dlt_signals.was_signal_received()
    dlt_signals.set_received_signal(sig)  # dlt's flag: the loader drains, our answer readers let go
    dlt_signals.wake_all()
    if first and _inside_step(frame, ("normalize", "load")):
        return  # dlt finishes the running jobs' transactions, starts no new one, and raises
    raise SignalReceivedException(sig)


def _inside_step(frame: FrameType | None, steps: tuple[str, ...]) -> bool:
    while frame is not None:
        code = frame.f_code
        if code.co_name in steps and code.co_filename.replace("\\", "/").endswith("dlt/pipeline/pipeline.py"):
            return True
        frame = frame.f_back
    return False


def interrupted(exc: BaseException) -> SignalReceivedException | KeyboardInterrupt | None:
    """The signal inside an error chain (dlt wraps it in ``PipelineStepFailed``), else None."""
    from pipelines.run import causes

    return next((e for e in causes(exc) if isinstance(e, KeyboardInterrupt)), None)


def stop(exc: BaseException) -> NoReturn:
    """Print the one line and end the process with 130 (SIGINT) or 143 (SIGTERM)."""
    signal_exc = interrupted(exc)
    sig = getattr(signal_exc, "signal_code", signal.SIGINT)
    code = EXIT_CODES.get(sig, 128 + int(sig))
    try:
        line = f"error: stopped by {NAMES.get(sig, f'signal {sig}')} {_what_was_committed(exc)}"
    except Exception as describe_failure:  # noqa: BLE001 - the exit code must still be right
        line = f"error: stopped by {NAMES.get(sig, f'signal {sig}')} ({type(describe_failure).__name__})"
    print(line, file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(code)  # worker threads may be inside a slow answer: do not wait for them


def _step(exc: BaseException) -> str | None:
    from pipelines.run import causes

    for error in causes(exc):
        step = getattr(error, "step", None)
        if step in STEPS:
            return step
    found = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:  # innermost dlt step the signal interrupted
        code = tb.tb_frame.f_code
        if code.co_name in STEPS and code.co_filename.replace("\\", "/").endswith("dlt/pipeline/pipeline.py"):
            found = code.co_name
        tb = tb.tb_next
    return found


def _what_was_committed(exc: BaseException) -> str:
    step = _step(exc)
    if step in ("extract", "normalize"):
        doing = "extracting" if step == "extract" else "normalizing"
        return (f"while {doing}: nothing of this run was committed; the warehouse and the cursors are as the last "
                "completed load left them, and the next run starts from there")
    if step == "load":
        return _load_line(exc)
    if _pipeline is not None and _pipeline.has_pending_data:  # between two steps: a package waits, unloaded
        return ("between steps: nothing of this run was committed; the warehouse and the cursors are as the last "
                "completed load left them, and the next run starts from there")
    return ("with no load in progress: what this run completed is committed, nothing else was started; the next "
            "run continues from the last committed cursors")


def _load_line(exc: BaseException) -> str:
    from pipelines.run import causes

    load_id = next((getattr(e, "load_id", None) for e in causes(exc) if getattr(e, "load_id", None)), None)
    if load_id is None and _pipeline is not None:
        pending = _pipeline.list_normalized_load_packages()
        load_id = pending[0] if pending else None
    if load_id is None or _pipeline is None:
        return ("while loading: the load was not recorded as complete, so its cursors were not saved; the next run "
                "finishes it or extracts its data again")
    jobs = _pipeline.get_load_package_info(load_id).jobs
    done = sorted({j.job_file_info.table_name for j in jobs.get("completed_jobs", [])} - {"_dlt_pipeline_state"})
    total = sum(len(v) for v in jobs.values())
    committed = (f"{len(jobs.get('completed_jobs', []))} of {total} load jobs were committed"
                 f"{' (' + ', '.join(done[:8]) + (', ...' if len(done) > 8 else '') + ')' if done else ''}")
    return (f"while loading package {load_id}: {committed} and the rest were not; the load was not recorded as "
            "complete, so its cursors were not saved; the next run finishes this package or, once its load "
            "began, abandons it and extracts its data again (every table replaces what it reloads: nothing is "
            "doubled)")
