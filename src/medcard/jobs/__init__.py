"""Durable scheduled work (R-PAY-04 expiry, R-INS-04 deferred reimbursement, notifications).

Enqueue in the caller's transaction with :func:`medcard.jobs.service.enqueue`; register a
handler with :func:`medcard.jobs.registry.handles`; the worker (``medcard worker``, or in the
app under ``make run``) claims due jobs with ``SELECT … FOR UPDATE SKIP LOCKED`` and runs each
in its own unit of work. See :mod:`medcard.jobs.worker`.
"""
