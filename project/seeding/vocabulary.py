"""Small vocabularies built with Faker once per seed; rows then draw from them in bulk.

Calling Faker per row manages ~14k rows/s; drawing indexes into a few hundred Faker values with numpy
costs almost nothing, and the values still read like real data.
"""

from __future__ import annotations

from dataclasses import dataclass

from faker import Faker


@dataclass(frozen=True)
class Vocabulary:
    companies: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    jobs: tuple[str, ...]
    departments: tuple[str, ...]
    titles: tuple[str, ...]
    paragraphs: tuple[str, ...]
    sites: tuple[str, ...]
    domains: tuple[str, ...]


def _unique(make: object, count: int) -> tuple[str, ...]:
    assert callable(make)
    seen: dict[str, None] = {}
    attempts = 0
    while len(seen) < count and attempts < count * 20:
        seen.setdefault(_clean(str(make())), None)
        attempts += 1
    return tuple(seen)


def _clean(text: str) -> str:
    # COPY's text format treats tab, newline and backslash specially; Faker's words never need them.
    return text.replace("\t", " ").replace("\n", " ").replace("\\", "/")


def build(seed: int) -> Vocabulary:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    return Vocabulary(
        companies=_unique(fake.company, 400),
        first_names=_unique(fake.first_name, 300),
        last_names=_unique(fake.last_name, 300),
        jobs=_unique(fake.job, 60),
        departments=_unique(lambda: fake.bs().split()[-1].title(), 15),
        titles=_unique(lambda: fake.sentence(nb_words=6).rstrip("."), 400),
        paragraphs=_unique(lambda: fake.paragraph(nb_sentences=4), 300),
        sites=_unique(lambda: f"{fake.city()} {fake.street_suffix()}", 200),
        domains=_unique(fake.domain_name, 200),
    )
