"""The problem+json response every door answers refusals with (RFC 9457), serialised by orjson."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse

PROBLEM = "application/problem+json"


class ProblemResponse(JSONResponse):
    """RFC 9457 problem+json, serialised once by orjson. (Answers with a response model need no
    such class: FastAPI has Pydantic write their JSON bytes directly, which a custom default
    response class would turn off.)"""

    media_type = PROBLEM

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=str)
