#!/usr/bin/env bash
# Until the first release, the schema lives in one migration (0001) regenerated from the models.
# After the first release this script goes away and every change gets its own revision.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/0001_initial.py
MEDCARD_DATABASE_URL="sqlite+aiosqlite:///$tmp/regen.db" .venv/bin/alembic revision --autogenerate -m initial --rev-id 0001 >/dev/null
sed -i 's/astext_type=Text()/astext_type=sa.Text()/; s/^Create Date: .*/Create Date: (regenerated)/' migrations/versions/0001_initial.py
.venv/bin/ruff format -q migrations/versions/0001_initial.py
rm -rf "$tmp"
echo "migrations/versions/0001_initial.py regenerated"
