from tests.ops.stores import new_store
from tests.ops.support import configured

__all__ = ["configured", "new_store"]
