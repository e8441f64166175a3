"""The demo's organisation: an invented county tree and the people who hold its roles.

Pure and deterministic: the caller passes the seeded `random.Random`. Codes follow the shape of
administrative codes: county 621225, townships 621225100…, villages 621225100200…, communities
621225100001…, workshops 621225100900…. Female populations add up from villages and
communities to their township and from townships to their county.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from scheduler.demo.events import Profile, Row, assign_profiles, workday
from scheduler.demo.names import (
    COMMUNITY_NAMES,
    COUNTY_TAILS,
    CRAFTS,
    TOWN_TAILS,
    VILLAGE_TAILS,
    person,
    place,
)

FIRST_COUNTY = ("621225", "西和县")


@dataclass(frozen=True)
class Shape:
    """How much to generate: counties and, spread over them, the units under townships."""

    counties: int = 1
    townships: int = 20
    villages: int = 384
    communities: int = 10
    workshops: int = 13


XIHE = Shape()


@dataclass(frozen=True)
class Place:
    """A generated unit, with the habits of its township (None for the county)."""

    code: str
    name: str
    kind: str
    parent: str
    active_from: date
    women: int | None = None
    profile: Profile | None = None


def split(rng: random.Random, total: int, parts: int, minimum: int) -> list[int]:
    """``total`` spread over ``parts`` unevenly, each at least ``minimum`` when possible."""
    minimum = minimum if total >= minimum * parts else 0
    counts = [minimum] * parts
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    for index in rng.choices(range(parts), weights, k=total - minimum * parts):
        counts[index] += 1
    return counts


def places(rng: random.Random, shape: Shape) -> list[Place]:
    townships = split(rng, shape.townships, shape.counties, 1)
    villages = split(rng, shape.villages, shape.townships, 1)
    communities = split(rng, shape.communities, shape.townships, 0)
    workshops = split(rng, shape.workshops, shape.townships, 0)
    profiles = assign_profiles(rng, shape.townships)
    taken: set[str] = {FIRST_COUNTY[1]}
    places: list[Place] = []
    first = 0
    for number, count in enumerate(townships):
        code = str(int(FIRST_COUNTY[0]) + number)
        name = FIRST_COUNTY[1] if number == 0 else place(rng, COUNTY_TAILS, taken, "县")
        children: list[Place] = []
        for index in range(first, first + count):
            sizes = (villages[index], communities[index], workshops[index])
            township = f"{code}{100 + index - first:03d}"
            children += _township(rng, township, code, profiles[index], sizes, taken)
        first += count
        women = sum(child.women or 0 for child in children if child.kind == "township")
        places += [Place(code, name, "county", "", date(2005, 1, 1), women), *children]
    return places


def _township(
    rng: random.Random,
    code: str,
    county: str,
    profile: Profile,
    sizes: tuple[int, int, int],
    taken: set[str],
) -> list[Place]:
    """A township and the villages, communities and workshops under it."""
    level = "镇" if rng.random() < 0.6 else "乡"
    name = place(rng, TOWN_TAILS, taken, level)
    villages, communities, workshops = sizes
    children = [
        Place(f"{code}{200 + n:03d}", place(rng, VILLAGE_TAILS, taken, "村"), "village", code,
              date(2005, 1, 1), rng.randint(220, 760), profile)
        for n in range(villages)
    ]  # fmt: skip
    for n in range(communities):
        stem = rng.choice(COMMUNITY_NAMES)
        children.append(
            Place(f"{code}{1 + n:03d}", f"{name}{stem}社区", "community", code,
                  date(rng.randint(2008, 2019), 1, 1), rng.randint(1500, 4200), profile)
        )  # fmt: skip
    for n in range(workshops):
        host = rng.choice(children[:villages]).name if villages else name
        craft = rng.choice(CRAFTS)
        started = date(rng.randint(2018, 2020), rng.randint(1, 12), 1)
        workshop = f"{host}巾帼扶贫车间({craft})"
        children.append(Place(f"{code}{900 + n:03d}", workshop, "workshop", code, started))
    women = sum(child.women or 0 for child in children)
    return [Place(code, name, "township", county, date(2005, 1, 1), women, profile), *children]


HOLDERS = {
    "county": (("fulian_chair", "woman"), ("party_secretary", "man"), ("clerk", "young")),
    "township": (("fulian_chair", "woman"), ("party_secretary", "man"), ("clerk", "young")),
    "village": (("fulian_chair", "woman"), ("party_secretary", "man")),
    "community": (("fulian_chair", "woman"), ("party_secretary", "woman")),
    "workshop": (("fulian_chair", "woman"),),
}


def people(rng: random.Random, places: Sequence[Place], year: int, as_of: date) -> list[Row]:
    """Role holders of every unit; a few township chairs change during the year."""
    used: dict[str, int] = {}
    rows = []
    for unit in places:
        for role, kind in HOLDERS[unit.kind]:
            if role == "party_secretary" and rng.random() < 0.15:
                kind = "woman" if kind == "man" else "man"
            since = date(rng.randint(2016, year - 1), rng.randint(1, 12), 1)
            change = _handover(rng, unit, role, year, as_of)
            rows.append(_person(rng, used, unit, role, kind, since, change))
            if change:
                rows.append(_person(rng, used, unit, role, kind, change + timedelta(days=1), None))
    return rows


def _handover(rng: random.Random, unit: Place, role: str, year: int, as_of: date) -> date | None:
    """The last day of a township chair who hands over this year (one in ten), or None."""
    last = min(as_of, date(year, 11, 30))
    if unit.kind != "township" or role != "fulian_chair" or last < date(year, 3, 1):
        return None
    return workday(rng, date(year, 3, 1), last) if rng.random() < 0.1 else None


def _person(
    rng: random.Random,
    used: dict[str, int],
    unit: Place,
    role: str,
    kind: str,
    since: date,
    until: date | None,
) -> Row:
    name, pinyin = person(rng, kind)
    used[pinyin] = used.get(pinyin, 0) + 1
    email = f"{pinyin}{used[pinyin] if used[pinyin] > 1 else ''}@example.org"
    return {
        "name": name,
        "email": email,
        "phone": "",
        "unit": unit.code,
        "role": role,
        "from": since.isoformat(),
        "to": until.isoformat() if until else "",
    }
