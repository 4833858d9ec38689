"""Every domain's tables, imported once so Alembic and `Base.metadata` see the whole schema."""

from isom import commands as command_models
from isom.agents import models as agents_models
from isom.auth import models as auth_models
from isom.costing import models as costing_models
from isom.db import Base
from isom.dc import models as dc_models
from isom.devices import models as devices_models
from isom.integration import models as integration_models
from isom.ledger import models as ledger_models
from isom.masterdata import models as masterdata_models
from isom.orders import models as orders_models
from isom.planning import models as planning_models
from isom.planning.scheduling import models as scheduling_models
from isom.production import models as production_models

__all__ = [
    "Base",
    "agents_models",
    "auth_models",
    "command_models",
    "costing_models",
    "dc_models",
    "devices_models",
    "integration_models",
    "ledger_models",
    "masterdata_models",
    "orders_models",
    "planning_models",
    "production_models",
    "scheduling_models",
]
