"""``db.transient``: mapped instances for rows read straight from the driver (the payment batch's
facts), built without the constructor's events."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid

from sqlalchemy import inspect

from medcard.db import transient
from medcard.models import Account, Hospital, Region

FRESH_PROCESS = textwrap.dedent(
    """
    import uuid
    from medcard.db import transient
    from medcard.models import Account
    account = transient(Account, id=uuid.uuid4(), status="active")
    print(account.status, account.nickname)
    """
)


def test_a_transient_instance_reads_its_values_and_none_for_the_rest() -> None:
    region = transient(Region, id=uuid.uuid4(), code="110000")
    hospital = transient(Hospital, id=uuid.uuid4(), code="H1", credit_enabled=True, region=region)
    assert (hospital.code, hospital.credit_enabled, hospital.region.code) == ("H1", True, "110000")
    assert hospital.name_zh is None
    assert inspect(hospital).transient


def test_the_first_one_in_a_fresh_process_configures_the_mappers() -> None:
    """A restarted server's first payment batch builds these before any query has configured
    the mappers (found by the kill -9 test: the attribute read failed)."""
    ran = subprocess.run([sys.executable, "-c", FRESH_PROCESS], capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["active", "None"]
    assert transient(Account, status="frozen").status == "frozen"
