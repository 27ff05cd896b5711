"""Bulk retire, quarantine, uninstall and move: dry-run preview, counted confirm, progress, cancel.

A job is a row with progress (style habit 6); its states and the moves between them are in
`states`. The modules, by idea:

- `targets`: which devices (a pasted list, a CSV, a whole group), one line each, valid or not.
- `actions`: what the job does to each device.
- `reading`: many platform reads at once, in a bounded pool, reporting as they go.
- `verdicts`: will the action change a device, and if not, why.
- `dry_run`: the preview, from storing the job to storing its verdicts, in the background:
  start_dry_run is the one call the API and the CLI make.
- `confirm` and `cancel`: the two commands a supervisor gives a previewed job.
- `jobs` and `results`: reading jobs, their progress, lines and per-device results; they never
  write. `settle` stores the states a job reaches without a command (done, a dead dry run).

The names below are the package's surface for the API, the CLI and the exports.
"""

from app.services.bulk.actions import STATUS_ACTIONS, JobAction, job_action
from app.services.bulk.cancel import cancel
from app.services.bulk.confirm import confirm
from app.services.bulk.dry_run import (
    PACING_KEY,
    check_devices,
    create_checking_job,
    join_dry_run,
    start_dry_run,
)
from app.services.bulk.jobs import Progress, creators, get_job, items_page, job_progress, jobs_page
from app.services.bulk.reading import Pacing
from app.services.bulk.results import iter_results
from app.services.bulk.settle import settle_jobs, settled_job
from app.services.bulk.states import CANCELLED, CHECK_FAILED, CHECKING, DONE, SENT_NOTHING
from app.services.bulk.targets import Targets
from app.services.bulk.verdicts import CHANGE, PROBLEMS, VERDICTS

__all__ = [
    "CANCELLED",
    "CHANGE",
    "CHECKING",
    "CHECK_FAILED",
    "DONE",
    "PACING_KEY",
    "PROBLEMS",
    "SENT_NOTHING",
    "STATUS_ACTIONS",
    "VERDICTS",
    "JobAction",
    "Pacing",
    "Progress",
    "Targets",
    "cancel",
    "check_devices",
    "confirm",
    "create_checking_job",
    "creators",
    "get_job",
    "items_page",
    "iter_results",
    "job_action",
    "job_progress",
    "jobs_page",
    "join_dry_run",
    "settle_jobs",
    "settled_job",
    "start_dry_run",
]
