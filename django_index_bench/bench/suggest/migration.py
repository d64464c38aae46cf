"""A ready Django migration for a measured candidate: AddIndexConcurrently in a non-atomic migration (the
build takes SHARE UPDATE EXCLUSIVE: writes go on), or AddIndex (the build holds SHARE: every write to the
table waits until it ends), after the app's latest migration. Written to a file only; never applied."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from django.db import models
from django.db.migrations.loader import MigrationLoader

from django_index_bench.bench.costs.writes import model_for
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.suggest.results import Candidate, Predicate


def _field_names(model: type[models.Model]) -> dict[str, str]:
    """column -> the field name Index(fields=...) takes ("author" for author_id)."""
    return {str(f.column): f.name for f in model._meta.concrete_fields}


def _condition(predicates: Sequence[Predicate], names: dict[str, str]) -> str:
    lookups = []
    for p in predicates:
        name = names[p.column]
        if p.test == "is null":
            lookups.append(f"{name}__isnull=True")
        elif p.test == "is not null":
            lookups.append(f"{name}__isnull=False")
        else:
            lookups.append(f"{name}={p.value!r}")
    return f"models.Q({', '.join(lookups)})"


def index_expression(candidate: Candidate, names: dict[str, str]) -> str:
    fields = [("-" if k.descending else "") + names[k.column] for k in candidate.keys]
    parts = [f"fields={fields!r}", f"name={candidate.name!r}"]
    if candidate.include:
        parts.append(f"include={[names[c] for c in candidate.include]!r}")
    if candidate.where:
        parts.append(f"condition={_condition(candidate.where, names)}")
    return f"models.Index({', '.join(parts)})"


def latest_migration(app_label: str) -> str:
    leaves = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes(app_label)
    if len(leaves) != 1:
        raise UsageError(f"app {app_label!r} has {len(leaves)} latest migrations; merge them first")
    return str(leaves[0][1])


def _operation(candidate: Candidate, operation: str) -> tuple[str, str]:
    """(the app, the operation's source) for one candidate."""
    model = model_for(candidate.table)
    index = index_expression(candidate, _field_names(model))
    return model._meta.app_label, (
        f"        {operation}(\n            model_name={model._meta.model_name!r},\n"
        f"            index={index},\n        ),\n"
    )


def render(candidates: Sequence[Candidate], *, concurrent: bool, note: str) -> str:
    operation = "AddIndexConcurrently" if concurrent else "migrations.AddIndex"
    made = [_operation(c, operation) for c in candidates]
    apps = sorted({app for app, _ in made})
    header = f"# Written by `bench suggest` on {dt.date.today().isoformat()}.\n"
    header += "".join(f"# {c.name}: {c.why}.\n" for c in candidates)
    header += "".join(f"# {line}\n" for line in note.splitlines())
    if concurrent:
        imports = "from django.contrib.postgres.operations import AddIndexConcurrently\n"
        atomic = (
            "    # CREATE INDEX CONCURRENTLY cannot run in a transaction; writes go on while it builds.\n"
        )
        atomic += "    atomic = False\n\n"
    else:
        imports = ""
        atomic = (
            "    # CREATE INDEX holds a SHARE lock on the table until it is built: every INSERT, UPDATE and\n"
            "    # DELETE on it waits meanwhile (AddIndexConcurrently avoids that, outside a transaction).\n"
        )
    return (
        f"{header}\nfrom __future__ import annotations\n\n"
        f"{imports}from django.db import migrations, models\n\n\n"
        f"class Migration(migrations.Migration):\n{atomic}"
        f"    dependencies = {[(app, latest_migration(app)) for app in apps]!r}\n\n"
        f"    operations = [\n{''.join(source for _, source in made)}    ]\n"
    )


def write(path: Path, text: str) -> None:
    compile(text, str(path), "exec")  # a bug here must never leave a file that does not import
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
