"""Every domain's tables, imported once so Alembic and `Base.metadata` see the whole schema."""

from isom.auth import models as auth_models
from isom.db import Base
from isom.ledger import models as ledger_models
from isom.masterdata import models as masterdata_models

__all__ = ["Base", "auth_models", "ledger_models", "masterdata_models"]
