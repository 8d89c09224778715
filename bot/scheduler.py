"""The one APScheduler of the bot process: the nightly batch, the weekly digest and the outbox retry.

Jobs live in a SQLAlchemyJobStore in the forge database under fixed ids, so a restart finds them
instead of adding copies; `coalesce` + `max_instances=1` + `misfire_grace_time` mean a job late by
less than the grace period (a deploy, a restart) runs once, and a job never overlaps itself.

Adding a job is one line in JOBS (plus its one-line function): functions are referenced by name in
the job store, so they live at module level and reach the running bot through `_runtime`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from bot.runtime import BotRuntime
from forge.config import Settings
from forge.errors import ConfigError, ForgeError, NotFoundError
from forge.publishing import notify, publish_digest, publish_nightly
from forge.store.engine import HeldLock, make_engine, try_process_lock

log = logging.getLogger(__name__)

MISFIRE_GRACE_S = 3600
LEAD_RETRY_S = 60.0  # how soon a waiting bot process takes the jobs over from one that stopped
SCHEDULER_LOCK_KEY = 0x5CE7A211  # any fixed number: the PostgreSQL advisory lock for the scheduler  # a job due during a restart or deploy of up to an hour still runs, once
_runtime: BotRuntime | None = None


def cron(expr: str) -> CronTrigger:
    """A crontab line in UTC (Settings has already refused numeric days of week)."""
    try:
        return CronTrigger.from_crontab(expr, timezone=UTC)
    except ValueError as exc:
        raise ConfigError(f"Invalid crontab line {expr!r}: {exc}.", "Write e.g. `0 9 * * mon` (UTC).") from exc


def _run(name: str, work: Callable[[BotRuntime], object]) -> None:
    """Run a job body; a failure is a log line plus a channel notice; due posts are delivered after."""
    rt = _runtime
    if rt is None:
        log.warning("Job %s fired with no bot running; skipped", name)
        return
    try:
        work(rt)
    except ForgeError as exc:
        log.warning("Job %s failed: %s", name, exc.message)
        if rt.channel:
            notify(rt.forge.datastore, rt.channel, f"Scheduled job `{name}` failed: {exc.message}")
    finally:
        rt.deliver()


def _channel(rt: BotRuntime) -> str:
    if not rt.channel:
        raise ConfigError("FORGE_SLACK_CHANNEL is not set.", "Set it to the channel id for scheduled posts.")
    return rt.channel


def nightly_batch() -> None:
    _run("nightly", lambda rt: publish_nightly(rt.forge, _channel(rt), rt.settings.nightly_targets,
                                               rt.settings.nightly_n, deliver=rt.deliver))


def coverage_digest() -> None:
    _run("digest", lambda rt: publish_digest(rt.forge, _channel(rt)))


def outbox_retry() -> None:
    _run("outbox", lambda rt: None)  # _run delivers whatever is due


@dataclass(frozen=True)
class JobSpec:
    """A scheduled job: its function, its trigger from settings, and a line for people."""

    func: Callable[[], None]
    trigger: Callable[[Settings], BaseTrigger]
    description: str


JOBS: dict[str, JobSpec] = {
    "nightly": JobSpec(nightly_batch, lambda s: cron(s.nightly_cron), "Nightly batch"),
    "digest": JobSpec(coverage_digest, lambda s: cron(s.digest_cron), "Weekly coverage digest"),
    "outbox": JobSpec(outbox_retry, lambda s: IntervalTrigger(minutes=1, timezone=UTC), "Retry failed posts"),
}


@dataclass(frozen=True)
class JobInfo:
    """A job as shown in `/forge jobs` and the App Home."""

    id: str
    description: str
    next_run: datetime | None
    trigger: str


class JobScheduler:
    """A BackgroundScheduler over a persistent job store, registering JOBS under fixed ids.

    Only one bot process runs the jobs: the one holding the scheduler lock (a file lock beside a SQLite
    database, an advisory lock on PostgreSQL). Another process, say the old one during a rolling deploy
    or a second Procfile entry, keeps its scheduler paused, still lists the jobs and can trigger one, and
    takes over within `lead_retry_s` once the running one stops.
    """

    def __init__(self, settings: Settings, engine: Engine, jobs: Mapping[str, JobSpec] | None = None, *,
                 lead_retry_s: float = LEAD_RETRY_S) -> None:
        self.settings = settings
        self.engine = engine
        self.lead_retry_s = lead_retry_s
        self.lock: HeldLock | None = None
        self._stopping = threading.Event()
        self._leading = threading.Lock()
        self.jobs = dict(JOBS if jobs is None else jobs)
        self.triggers = {job_id: spec.trigger(settings) for job_id, spec in self.jobs.items()}  # ConfigError early
        # Its own engine: APScheduler disposes of the engine it is given when it shuts down.
        store_engine = make_engine(engine.url.render_as_string(hide_password=False))
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=store_engine)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S},
            timezone=UTC,
        )

    def start(self, runtime: BotRuntime | None = None) -> None:
        """Start the scheduler; run the jobs here unless another bot process already does."""
        global _runtime
        _runtime = runtime
        self.scheduler.start(paused=True)
        if self._try_to_lead():
            return
        log.info("Another bot process runs the scheduled jobs; this one takes over if that one stops.")
        threading.Thread(target=self._wait_to_lead, name="forge-scheduler-lock", daemon=True).start()

    @property
    def leading(self) -> bool:
        """Whether this process runs the jobs (the others only list and trigger them)."""
        return self.lock is not None

    def _wait_to_lead(self) -> None:
        while not self._stopping.wait(self.lead_retry_s):
            try:
                if self._try_to_lead():
                    log.info("This bot process now runs the scheduled jobs.")
                    return
            except Exception:  # e.g. the database is briefly unreachable: try again next time
                log.warning("Could not check the scheduler lock; trying again in %g s", self.lead_retry_s,
                            exc_info=True)

    def _try_to_lead(self) -> bool:
        with self._leading:  # never while shutting down
            if self._stopping.is_set():
                return False
            lock = try_process_lock(self.engine, "scheduler", SCHEDULER_LOCK_KEY)
            if lock is None:
                return False
            self.lock = lock
            self._register()
            self.scheduler.resume()
            return True

    def _register(self) -> None:
        """Register every job, keeping a stored next run time when the trigger is unchanged.

        `replace_existing` alone would recompute the next run from now, silently dropping a run that
        fell due while the bot was down; keeping it lets the misfire grace period decide. Stored jobs
        that this version no longer has are removed, so they stop firing.
        """
        for job in self.scheduler.get_jobs():
            if job.id not in self.jobs:
                log.info("Removing stored job %s, which this version does not have", job.id)
                job.remove()
        for job_id, spec in self.jobs.items():
            trigger = self.triggers[job_id]
            kwargs: dict[str, Any] = {}
            try:
                stored = self.scheduler.get_job(job_id)
            except Exception as exc:  # its function was renamed or moved since it was stored: replaced below
                log.warning("Replacing stored job %s, which cannot be loaded: %s", job_id, exc)
                stored = None
            if stored is not None and str(stored.trigger) == str(trigger) and stored.next_run_time is not None:
                kwargs["next_run_time"] = stored.next_run_time
            self.scheduler.add_job(spec.func, trigger, id=job_id, name=spec.description, replace_existing=True,
                                   **kwargs)

    def next_runs(self) -> list[JobInfo]:
        return [JobInfo(job.id, job.name, job.next_run_time, str(job.trigger)) for job in self.scheduler.get_jobs()]

    def run_now(self, job_id: str) -> None:
        """Run a job now in the scheduler (so it never overlaps itself); its schedule then carries on."""
        job = self.scheduler.get_job(job_id)
        if job is None:
            raise NotFoundError(f"No scheduled job `{job_id}`.", f"Jobs: {', '.join(self.jobs)}.")
        job.modify(next_run_time=datetime.now(UTC))
        self.scheduler.wakeup()

    def shutdown(self) -> None:
        global _runtime
        self._stopping.set()
        with self._leading:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=True)
            if self.lock is not None:
                self.lock.release()
                self.lock = None
        _runtime = None
