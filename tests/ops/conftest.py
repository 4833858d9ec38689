from tests.ops.support import configured

__all__ = ["configured"]
