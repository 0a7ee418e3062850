"""Idempotent mutating requests (R-PAY-05, R-PAY-07): the ``Idempotency-Key`` store.

Use in an endpoint (one line)::

    async def pay(body: PayIn, idempotency: PatientIdempotencyDep) -> PayOut:
        return await idempotency.run(lambda: service.pay(idempotency.session, ...))

See :mod:`medcard.idempotency.service` for the phases.
"""
