"""Scheduling: finite-capacity plans that follow the floor, and the backward load view.

- `model.py`: the problem as plain minutes; `timeline.py`: calendar arithmetic;
- `dispatch.py`: earliest-due-date dispatch, the instant repair, and insertion (promises);
- `solver.py`: CP-SAT improvement by neighbourhood search, warm-started, moves priced;
- `build.py`: the problem built from the floor; `services.py`: publishing plans;
- `whatif.py`: what-if plans and capable-to-promise; `queries.py`: what others read;
- `worker.py`: the debounced re-plan in the background; `backward.py`: backward load view.
"""

from isom.planning.scheduling.backward import Schedule, backward_schedule

__all__ = ["Schedule", "backward_schedule"]
