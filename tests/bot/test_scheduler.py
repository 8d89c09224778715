"""JobScheduler on a real SQLite job store: restarts, misfires, crontab lines, run-now, and the job wrapper.

The job store pickles functions by reference, so the test jobs are module-level functions here.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import ValidationError
from sqlalchemy import inspect, text

import bot.scheduler as scheduler_module
from bot.scheduler import MISFIRE_GRACE_S, JobScheduler, JobSpec, coverage_digest, cron, nightly_batch
from forge.bootstrap import Forge
from forge.config import Settings
from forge.errors import BackendUnavailableError, ConfigError, NotFoundError
from forge.store.datastore import Datastore

RUNS: list[str] = []
SUNDAY_NOON = datetime(2026, 1, 4, 12, 0, tzinfo=UTC)
MONDAY = datetime(2026, 1, 5, tzinfo=UTC)


def record_alpha() -> None:
    RUNS.append("alpha")


def record_beta() -> None:
    RUNS.append("beta")


def every(delta: timedelta) -> Callable[[Settings], IntervalTrigger]:
    return lambda _settings: IntervalTrigger(seconds=delta.total_seconds(), timezone=UTC)


DAILY_3AM = JobSpec(record_alpha, lambda _s: cron("0 3 * * *"), "Alpha at three")


def wait_for(condition: Callable[[], object], timeout: float = 15.0) -> None:
    """Bounded polling: the scheduler works in its own thread."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.02)


@pytest.fixture(autouse=True)
def fresh_runs() -> Iterator[None]:
    RUNS.clear()
    yield
    RUNS.clear()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'x.db'}"


@pytest.fixture
def make_scheduler(db_url: str) -> Iterator[Callable[..., JobScheduler]]:
    """A JobScheduler on its own Datastore (a new engine, as a restarted process would have)."""
    made: list[tuple[JobScheduler, Datastore]] = []

    def make(jobs: dict[str, JobSpec] | None, settings: Settings | None = None, url: str | None = None,
             **kwargs: Any) -> JobScheduler:
        store = Datastore(url or db_url)
        scheduler = JobScheduler(settings or Settings(), store.engine, jobs, **kwargs)
        made.append((scheduler, store))
        return scheduler

    yield make
    for scheduler, store in made:
        scheduler.shutdown()
        store.close()


def stored_rows(db_url: str) -> list[str]:
    store = Datastore(db_url)
    try:
        with store.engine.connect() as conn:
            return [row[0] for row in conn.execute(text("SELECT id FROM apscheduler_jobs ORDER BY id"))]
    finally:
        store.close()


def move_stored_run(db_url: str, job_id: str, when: datetime) -> None:
    """Edit the job store directly, as no running scheduler would."""
    store = Datastore(db_url)
    jobstore = SQLAlchemyJobStore(engine=store.engine)
    jobstore.start(BackgroundScheduler(timezone=UTC), "default")
    job = jobstore.lookup_job(job_id)
    assert job is not None
    job.next_run_time = when
    jobstore.update_job(job)
    store.close()


def test_migrations_create_the_job_table(db_url: str) -> None:
    store = Datastore(db_url)
    assert "apscheduler_jobs" in inspect(store.engine).get_table_names()
    store.close()


def test_a_restart_keeps_one_job_per_id_and_the_stored_next_run(make_scheduler: Callable[..., JobScheduler],
                                                                  db_url: str) -> None:
    jobs = {"alpha": JobSpec(record_alpha, every(timedelta(hours=1)), "Alpha"), "beta": DAILY_3AM}
    first = make_scheduler(jobs)
    first.start()
    before = {job.id: job.next_run_time for job in first.scheduler.get_jobs()}
    first.shutdown()

    second = make_scheduler(jobs)  # a new trigger object: recomputing from now would move alpha's next run
    second.start()
    assert stored_rows(db_url) == ["alpha", "beta"]
    assert {job.id: job.next_run_time for job in second.scheduler.get_jobs()} == before
    assert RUNS == []


def test_a_changed_schedule_replaces_the_stored_next_run(make_scheduler: Callable[..., JobScheduler],
                                                         db_url: str) -> None:
    first = make_scheduler({"alpha": JobSpec(record_alpha, every(timedelta(hours=1)), "Alpha")})
    first.start()
    first.shutdown()
    second = make_scheduler({"alpha": JobSpec(record_alpha, every(timedelta(hours=5)), "Alpha")})
    second.start()
    (job,) = second.scheduler.get_jobs()
    assert job.next_run_time > datetime.now(UTC) + timedelta(hours=4)
    assert stored_rows(db_url) == ["alpha"]


def test_a_stored_job_whose_function_has_moved_is_replaced_not_fatal(make_scheduler: Callable[..., JobScheduler],
                                                                      db_url: str) -> None:
    first = make_scheduler({"alpha": DAILY_3AM})
    first.start()
    first.shutdown()
    store = Datastore(db_url)
    with store.engine.begin() as conn:  # as if record_alpha had been renamed since the job was stored
        state = pickle.loads(conn.execute(text("SELECT job_state FROM apscheduler_jobs")).scalar_one())
        state["func"] = f"{__name__}:renamed_away"
        conn.execute(text("UPDATE apscheduler_jobs SET job_state = :s"), {"s": pickle.dumps(state)})
    store.close()
    second = make_scheduler({"alpha": DAILY_3AM})
    second.start()
    assert second.scheduler.get_job("alpha").func is record_alpha and stored_rows(db_url) == ["alpha"]


@pytest.mark.parametrize(("interval", "late", "runs"), [
    (timedelta(minutes=2), timedelta(minutes=10), 1),  # five missed runs, all within the grace period: once
    (timedelta(hours=3), timedelta(seconds=MISFIRE_GRACE_S + 600), 0),  # beyond the grace period: skipped
])
def test_a_run_missed_while_down_runs_once_within_the_grace_period(
        make_scheduler: Callable[..., JobScheduler], db_url: str, interval: timedelta, late: timedelta,
        runs: int) -> None:
    jobs = {"alpha": JobSpec(record_alpha, every(interval), "Alpha")}
    first = make_scheduler(jobs)
    first.start()
    first.shutdown()
    move_stored_run(db_url, "alpha", datetime.now(UTC) - late)  # the bot was down when the job fell due

    second = make_scheduler(jobs)
    restarted = datetime.now(UTC)
    second.start()
    wait_for(lambda: second.scheduler.get_job("alpha").next_run_time > restarted)  # the missed run was handled
    second.shutdown()  # waits for a running job to finish
    assert RUNS == ["alpha"] * runs


@pytest.mark.parametrize("env", ["FORGE_DIGEST_CRON", "FORGE_NIGHTLY_CRON"])
@pytest.mark.parametrize("line", ["0 9 * * 1", "0 9 * * 1-5", "0 9 * * */2", "0 9 * * 0"])
def test_settings_refuse_a_numeric_day_of_week(monkeypatch: pytest.MonkeyPatch, env: str, line: str) -> None:
    monkeypatch.setenv(env, line)
    with pytest.raises(ValidationError, match="write the day of week by name"):
        Settings()


@pytest.mark.parametrize(("line", "after", "fires"), [
    ("0 9 * * mon", SUNDAY_NOON, MONDAY.replace(hour=9)),
    ("0 9 * * mon", MONDAY.replace(hour=9, second=1), MONDAY.replace(hour=9) + timedelta(days=7)),
    ("0 9 * * sun", SUNDAY_NOON, SUNDAY_NOON.replace(hour=9) + timedelta(days=7)),
    ("30 6 * * mon-fri", SUNDAY_NOON, MONDAY.replace(hour=6, minute=30)),
])
def test_crontab_lines_fire_in_utc_on_the_named_day(line: str, after: datetime, fires: datetime) -> None:
    assert cron(line).get_next_fire_time(None, after) == fires


def test_default_schedules_are_two_am_daily_and_monday_nine_utc() -> None:
    settings = Settings()
    assert (settings.nightly_cron, settings.digest_cron) == ("0 2 * * *", "0 9 * * mon")
    assert cron(settings.nightly_cron).get_next_fire_time(None, SUNDAY_NOON) == MONDAY.replace(hour=2)
    assert cron(settings.digest_cron).get_next_fire_time(None, SUNDAY_NOON) == MONDAY.replace(hour=9)


@pytest.mark.parametrize("line", ["61 * * * *", "0 9 * * funday"])
def test_an_invalid_crontab_line_is_a_config_error(line: str) -> None:
    with pytest.raises(ConfigError, match="Invalid crontab line"):
        cron(line)


def test_run_now_runs_the_job_and_keeps_its_schedule(make_scheduler: Callable[..., JobScheduler]) -> None:
    scheduler = make_scheduler({"alpha": DAILY_3AM})
    scheduler.start()
    scheduled = scheduler.scheduler.get_job("alpha").next_run_time
    scheduler.run_now("alpha")
    wait_for(lambda: RUNS == ["alpha"])
    wait_for(lambda: scheduler.scheduler.get_job("alpha").next_run_time == scheduled)
    with pytest.raises(NotFoundError, match="No scheduled job `nope`") as caught:
        scheduler.run_now("nope")
    assert caught.value.hint == "Jobs: alpha."


def test_next_runs_lists_the_default_jobs_with_their_next_run(make_scheduler: Callable[..., JobScheduler]) -> None:
    scheduler = make_scheduler(None)
    scheduler.start()
    runs = {info.id: info for info in scheduler.next_runs()}
    assert set(runs) == {"nightly", "digest", "outbox"}
    assert runs["nightly"].description == "Nightly batch" and runs["nightly"].trigger.startswith("cron[")
    assert (runs["nightly"].next_run.hour, runs["nightly"].next_run.minute) == (2, 0)
    assert runs["digest"].next_run.weekday() == 0 and runs["digest"].next_run.hour == 9
    assert all(info.next_run is not None and info.next_run > datetime.now(UTC) for info in runs.values())


# -- the job wrapper ----------------------------------------------------------------


class FakeRuntime(SimpleNamespace):
    """Just what `_run` and the job bodies touch: forge, settings, channel, deliver."""

    def __init__(self, forge: Forge, channel: str | None) -> None:
        super().__init__(forge=forge, settings=forge.settings, channel=channel, deliveries=0)

    def deliver(self) -> None:
        self.deliveries += 1


@pytest.fixture
def runtime(forge_app: Forge, monkeypatch: pytest.MonkeyPatch) -> FakeRuntime:
    rt = FakeRuntime(forge_app, "CJOBS0001")
    monkeypatch.setattr(scheduler_module, "_runtime", rt)
    return rt


def failing(_rt: Any) -> None:
    raise BackendUnavailableError("Ollama <!channel> is down.", "Start it.")


def test_a_failing_job_queues_a_notice_to_the_channel_and_still_delivers(runtime: FakeRuntime) -> None:
    scheduler_module._run("nightly", failing)
    (row,) = runtime.forge.datastore.outbox_rows()
    assert (row["kind"], row["channel"]) == ("notice", "CJOBS0001")
    assert row["payload"] == {"text": "Scheduled job `nightly` failed: Ollama <!channel> is down."}
    assert runtime.deliveries == 1


def test_without_a_channel_a_failure_is_only_logged(runtime: FakeRuntime, caplog: pytest.LogCaptureFixture) -> None:
    runtime.channel = None
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        nightly_batch()
    assert "FORGE_SLACK_CHANNEL is not set" in caplog.text
    assert runtime.forge.datastore.outbox_rows() == [] and runtime.deliveries == 1


def test_an_unexpected_error_propagates_to_the_scheduler_after_delivering(runtime: FakeRuntime) -> None:
    with pytest.raises(KeyError):
        scheduler_module._run("digest", lambda rt: {}["missing"])
    assert runtime.forge.datastore.outbox_rows() == [] and runtime.deliveries == 1


def test_with_no_bot_running_a_job_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduler_module, "_runtime", None)
    called: list[object] = []
    scheduler_module._run("digest", called.append)
    assert called == []


def test_the_digest_job_queues_a_coverage_digest(runtime: FakeRuntime) -> None:
    coverage_digest()
    (row,) = runtime.forge.datastore.outbox_rows()
    assert (row["kind"], row["channel"]) == ("digest", "CJOBS0001")
    assert {"overall", "targets", "reviewers"} <= set(row["payload"])
    assert "medical_advice_boundary" in [t["target"] for t in row["payload"]["targets"]]
    assert runtime.deliveries == 1


def test_start_hands_jobs_the_runtime_and_shutdown_takes_it_back(make_scheduler: Callable[..., JobScheduler],
                                                                 forge_app: Forge) -> None:
    scheduler = make_scheduler({"alpha": DAILY_3AM})
    rt = FakeRuntime(forge_app, None)
    scheduler.start(rt)  # type: ignore[arg-type]
    assert scheduler_module._runtime is rt
    scheduler.shutdown()
    assert scheduler_module._runtime is None and not scheduler.scheduler.running


def test_one_bot_process_runs_the_jobs_and_another_takes_over_when_it_stops(
        make_scheduler: Callable[..., JobScheduler], db_url: str) -> None:
    jobs = {"alpha": JobSpec(record_alpha, every(timedelta(hours=1)), "Alpha")}
    setup = make_scheduler(jobs)
    setup.start()
    setup.shutdown()
    move_stored_run(db_url, "alpha", datetime.now(UTC) - timedelta(minutes=5))  # due while both were down

    first, second = make_scheduler(jobs, lead_retry_s=0.05), make_scheduler(jobs, lead_retry_s=0.05)
    first.start()
    second.start()
    assert first.leading and not second.leading
    wait_for(lambda: RUNS == ["alpha"])
    assert [job.id for job in second.next_runs()] == ["alpha"]  # a waiting process still lists the jobs

    first.shutdown()
    wait_for(lambda: second.leading)
    assert RUNS == ["alpha"]  # the run was done once; the next is an hour away


def test_jobs_this_version_no_longer_has_are_removed(make_scheduler: Callable[..., JobScheduler],
                                                      db_url: str) -> None:
    old = make_scheduler({"alpha": DAILY_3AM, "beta": JobSpec(record_beta, every(timedelta(hours=1)), "Beta")})
    old.start()
    old.shutdown()
    new = make_scheduler({"alpha": DAILY_3AM})
    new.start()
    assert stored_rows(db_url) == ["alpha"] and [job.id for job in new.next_runs()] == ["alpha"]


@pytest.mark.postgres
def test_on_postgresql_the_scheduler_lock_is_an_advisory_lock(make_scheduler: Callable[..., JobScheduler],
                                                              postgres_url: str) -> None:
    jobs = {"alpha": DAILY_3AM}
    first = make_scheduler(jobs, url=postgres_url, lead_retry_s=0.05)
    second = make_scheduler(jobs, url=postgres_url, lead_retry_s=0.05)
    first.start()
    second.start()
    assert first.leading and not second.leading
    first.shutdown()
    wait_for(lambda: second.leading)
    second.shutdown()  # before the fixture drops the database
