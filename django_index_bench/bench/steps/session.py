"""The states of bench.toml for a test session: the project's data seeded (or reused) once, then one
copy per state, each migrated there and ANALYZEd, as `bench run` does. Tests reach a copy only through
connections of their own (rounds/sides.py), so Django's default database is left as the suite set it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django_index_bench.bench.config import ProjectConfig
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.pg import clones, db
from django_index_bench.bench.pg import run_lock as locks
from django_index_bench.bench.results import StateChange
from django_index_bench.bench.rounds.sides import new_wrapper
from django_index_bench.bench.seeding import check_options, source_for
from django_index_bench.bench.steps.run import prepare
from django_index_bench.bench.steps.states import State, reach, resolve_states
from django_index_bench.bench.steps.timed import migrate_copies, settings_of


@dataclass
class SessionStates:
    """The seeded database and its state copies; `databases` maps a state's name to the Django
    settings of its copy. Mutable: a test may add a state (`derive`) while the session runs."""

    project: ProjectConfig
    target: db.Target
    profile: str | None
    fingerprint: str
    states: dict[str, State]
    databases: dict[str, dict[str, Any]]
    tag: str
    copies: list[db.Target] = field(default_factory=list)


@contextlib.contextmanager
def _django_on(target: db.Target, project: ProjectConfig) -> Iterator[None]:
    """Django's default database is target for the block (migrate, ANALYZE and the copies' settings
    go through it), on a connection of its own: the suite's connection, and any transaction a test
    holds on it, is put back untouched. Django is set up with the project's settings first when the
    suite has not done it."""
    from django.apps import apps

    if not apps.ready:
        db.setup_django(target, project)
    from django.db import connections

    suites = connections["default"]
    saved_url = os.environ.get("DATABASE_URL")
    own = new_wrapper(suites.settings_dict)
    connections["default"] = own
    db.switch_django(target)
    try:
        yield
    finally:
        own.close()
        connections["default"] = suites
        if saved_url is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved_url


def open_states(project: ProjectConfig, profile: str | None, seed: int, database: str) -> SessionStates:
    """Seed `database` at the profile (reused when it already holds those rows), then copy and migrate
    it to each configured state. Raises UsageError for bad options or a state that is not reached."""
    check_options(project, profile, seed, {})
    target = db.resolve(database)
    db.guard(target, allow_foreign=False)
    tag = clones.run_tag()
    with _django_on(target, project):
        source = source_for(project, profile, seed, {})
        states = resolve_states(project.before, project.after, where=f"{project.path}: states")
        session = SessionStates(project, target, source.profile, source.fingerprint(), {}, {}, tag)
        with locks.hold(clones.maintenance_url(target), target.name, purpose="pytest"):
            prepare(target, source, states[0], force=False, progress=False, project=project)
            try:
                changes = migrate_copies(target, states, tag, session.copies)
                for state, change, copied in zip(states, changes, session.copies, strict=True):
                    _keep(session, state, change, copied)
            except BaseException:
                close_states(session)
                raise
    return session


def _keep(session: SessionStates, state: State, change: StateChange, copied: db.Target) -> None:
    if not change.ok:
        raise UsageError(f"state {state.name!r} was not reached: {change.error}")
    session.states[state.name] = state
    session.databases[state.name] = settings_of(copied)


def derive(
    session: SessionStates,
    base: str,
    name: str,
    *,
    drop_indexes: Sequence[str] = (),
    create_indexes: Sequence[str] = (),
) -> str:
    """A further state: `base`'s migrations, then these index changes (what a branch that drops an
    index would leave). Made once per session and name; returns the name."""
    if name in session.states:
        return name
    if base not in session.states:
        raise UsageError(f"unknown state {base!r}; the states: {', '.join(session.states)}")
    origin = session.states[base]
    state = replace(
        origin,
        name=name,
        drop_indexes=(*origin.drop_indexes, *drop_indexes),
        create_indexes=(*origin.create_indexes, *create_indexes),
    )
    purpose = f"s{len(session.copies)}"
    target = session.target
    with _django_on(target, session.project):
        # Held while copying: another session or `bench seed` may be re-seeding the template.
        with locks.hold(clones.maintenance_url(target), target.name, purpose="pytest"):
            copied = clones.clone(target, clones.name_for(target, session.tag, purpose))
        try:
            db.switch_django(copied)
            _keep(session, state, reach(state), copied)
        except BaseException:
            clones.drop_all(target, [copied])
            raise
    session.copies.append(copied)
    return name


def close_states(session: SessionStates) -> None:
    """Drop every copy; the seeded database stays, for the next session to reuse."""
    clones.drop_all(session.target, session.copies)
    session.copies.clear()
