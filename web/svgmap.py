"""An inline SVG map of the Czech Republic drawn from the municipalities register.

No tiles and no border file: the register's 6,258 centroids are binned into a grid of
about 4 km cells, gaps between towns are closed (dilate, then erode), and each cell takes
the region of most of its towns. Each region becomes one SVG path of cell runs, so the
whole country is a few kilobytes. Points (search results) use the same projection.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

WIDTH = 1000.0
CELL_LAT = 0.04  # degrees of latitude per grid row (about 4.4 km)
# Light tints for neighbouring regions (decorative; points carry the meaning).
PALETTE = ("#e4ecf4", "#d6e4d8", "#efe6d2", "#e6dcec")

Cell = tuple[int, int]


@dataclass(frozen=True)
class RegisterPoint:
    lat: float
    lon: float
    region: str


@dataclass(frozen=True)
class CountryMap:
    lat_max: float
    lon_min: float
    scale: float  # SVG units per degree of latitude
    lon_factor: float  # cos(mid latitude)
    width: float
    height: float
    regions: tuple[tuple[str, str, str], ...]  # (region code, path d, fill)

    def project(self, lat: float, lon: float) -> tuple[float, float]:
        x = (lon - self.lon_min) * self.lon_factor * self.scale
        y = (self.lat_max - lat) * self.scale
        return round(x, 1), round(y, 1)

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width:.0f} {self.height:.0f}"


def _neighbours(cell: Cell) -> Iterable[Cell]:
    row, col = cell
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr or dc:
                yield row + dr, col + dc


def _closed(cells: set[Cell]) -> set[Cell]:
    """Morphological closing: fill the one-cell gaps between towns, keep the outline."""
    dilated = set(cells)
    for cell in cells:
        dilated.update(_neighbours(cell))
    return {c for c in dilated if all(n in dilated for n in _neighbours(c))} | cells


def _runs(cells: Iterable[Cell]) -> list[tuple[int, int, int]]:
    """Horizontal runs (row, first column, length) covering ``cells``."""
    rows: dict[int, list[int]] = {}
    for row, col in cells:
        rows.setdefault(row, []).append(col)
    runs = []
    for row, cols in sorted(rows.items()):
        cols.sort()
        start = previous = cols[0]
        for col in cols[1:]:
            if col != previous + 1:
                runs.append((row, start, previous - start + 1))
                start = col
            previous = col
        runs.append((row, start, previous - start + 1))
    return runs


def _colours(adjacent: dict[str, set[str]]) -> dict[str, str]:
    """A greedy colouring so that neighbouring regions differ."""
    chosen: dict[str, str] = {}
    for region in sorted(adjacent, key=lambda r: (-len(adjacent[r]), r)):
        used = {chosen[n] for n in adjacent[region] if n in chosen}
        chosen[region] = next((c for c in PALETTE if c not in used), PALETTE[0])
    return chosen


def build_map(points: Sequence[RegisterPoint]) -> CountryMap:
    if not points:
        return CountryMap(0.0, 0.0, 1.0, 1.0, WIDTH, WIDTH * 0.55, ())
    lat_min = min(p.lat for p in points) - CELL_LAT
    lat_max = max(p.lat for p in points) + CELL_LAT
    lon_min_raw = min(p.lon for p in points)
    lon_max_raw = max(p.lon for p in points)
    lon_factor = math.cos(math.radians((lat_min + lat_max) / 2))
    cell_lon = CELL_LAT / lon_factor
    lon_min = lon_min_raw - cell_lon
    lon_max = lon_max_raw + cell_lon
    scale = WIDTH / ((lon_max - lon_min) * lon_factor)
    height = (lat_max - lat_min) * scale

    votes: dict[Cell, Counter[str]] = {}
    for p in points:
        cell = (int((lat_max - p.lat) / CELL_LAT), int((p.lon - lon_min) / cell_lon))
        votes.setdefault(cell, Counter())[p.region] += 1
    owner = {cell: counted.most_common(1)[0][0] for cell, counted in votes.items()}
    pending = sorted(_closed(set(owner)) - set(owner))
    while pending:  # gap cells take the region around them, from the towns inwards
        left = []
        for cell in pending:
            near = Counter(owner[n] for n in _neighbours(cell) if n in owner)
            if near:
                owner[cell] = near.most_common(1)[0][0]
            else:
                left.append(cell)
        if len(left) == len(pending):
            break
        pending = left
    adjacent: dict[str, set[str]] = {region: set() for region in owner.values()}
    for cell, region in owner.items():
        for n in _neighbours(cell):
            other = owner.get(n)
            if other is not None and other != region:
                adjacent[region].add(other)
    colours = _colours(adjacent)
    cell_w = cell_lon * lon_factor * scale
    cell_h = CELL_LAT * scale
    paths = []
    for region in sorted(adjacent):
        cells = [c for c, r in owner.items() if r == region]
        d = "".join(
            f"M{col * cell_w:.1f} {row * cell_h:.1f}h{length * cell_w:.1f}v{cell_h:.1f}"
            f"h{-length * cell_w:.1f}z"
            for row, col, length in _runs(cells)
        )
        paths.append((region, d, colours[region]))
    return CountryMap(lat_max, lon_min, scale, lon_factor, WIDTH, height, tuple(paths))


@dataclass(frozen=True)
class MapPoint:
    code: str
    name: str
    x: float
    y: float
    count: int

    @property
    def radius(self) -> float:
        return round(7 + 2.5 * math.sqrt(self.count - 1), 1)
