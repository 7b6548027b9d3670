//! Geo commands (Redis 7.0's `geo.c`) over sorted sets: a geo set is a [`ZSetValue`] whose
//! scores are 52-bit geohashes (the math lives in [`crate::keyspace::geohash`]), so ZRANGE,
//! DUMP/RESTORE and the rest of the zset family work on it unchanged.
//!
//! What follows Redis exactly, and where it shows:
//! - GEOADD turns positions into scores and runs ZADD on them, as Redis rewrites its argv;
//! - searches visit the centre cell and its eight neighbours in Redis's order, members by score
//!   within each, so unsorted replies come in Redis's order; ASC/DESC sort stably (glibc's
//!   merge sort) and COUNT without ANY sorts partially with Redis's `pqsort`, so ties between
//!   equal distances come out as in Redis too;
//! - distances reply as `%.4f` bulk strings, coordinates as `%.17Lf` with the trailing zeros cut
//!   (a RESP3 double, a bulk string in RESP2), hashes as integers;
//! - errors come in Redis's order: the source key's type first, then the arguments from left
//!   to right, then the option conflicts.
//!
//! GEORADIUS and GEORADIUSBYMEMBER may STORE into another key: their key specs find it after the
//! STORE/STOREDIST keyword (Redis's own specs), and across shards the runtime runs them
//! atomically (`shard::txn::keys_plan`), as it does GEOSEARCHSTORE.

use std::cmp::Ordering;

use bytes::Bytes;

use super::{
    is_opt, spec, BeginSearch, CmdResult, CommandSpec, Ctx, FindKeys, Group, KeyRange, KeySpec,
    OpError, Run,
};
use crate::flags;
use crate::keyspace::geohash::{self, Shape, ShapeKind};
use crate::keyspace::{notify, Value, ZSetValue};
use crate::resp::{parse_i64, Reply};

const G: Group = Group::Geo;

/// The key of GEORADIUS and GEORADIUSBYMEMBER, then what follows STORE and STOREDIST (searched
/// from the first argument they may be at), as in Redis's key specs.
const fn store_specs(startfrom: i32) -> [KeyRange; 3] {
    let one = FindKeys::ONE;
    [
        KeyRange {
            begin: BeginSearch::Index(1),
            find: one,
        },
        KeyRange {
            begin: BeginSearch::Keyword {
                keyword: "STORE",
                startfrom,
            },
            find: one,
        },
        KeyRange {
            begin: BeginSearch::Keyword {
                keyword: "STOREDIST",
                startfrom,
            },
            find: one,
        },
    ]
}

static GEORADIUS_KEYS: [KeyRange; 3] = store_specs(6);
static GEORADIUSBYMEMBER_KEYS: [KeyRange; 3] = store_specs(5);

pub static COMMANDS: &[CommandSpec] = &[
    spec("geoadd", -5, flags!(WRITE | DENYOOM), KeySpec::ONE, G, Run::Keys(geoadd))
        .doc("Adds one or more members to a geospatial index. The key is created if it doesn't exist.", "3.2.0", "O(log(N)) for each item added, where N is the number of elements in the sorted set.", "key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]"),
    spec("geodist", -4, flags!(READONLY), KeySpec::ONE, G, Run::Keys(geodist))
        .doc("Returns the distance between two members of a geospatial index.", "3.2.0", "O(1)", "key member1 member2 [M|KM|FT|MI]"),
    spec("geohash", -2, flags!(READONLY), KeySpec::ONE, G, Run::Keys(geohash_cmd))
        .doc("Returns members from a geospatial index as geohash strings.", "3.2.0", "O(1) for each member requested.", "key [member [member ...]]"),
    spec("geopos", -2, flags!(READONLY), KeySpec::ONE, G, Run::Keys(geopos))
        .doc("Returns the longitude and latitude of members from a geospatial index.", "3.2.0", "O(1) for each member requested.", "key [member [member ...]]"),
    spec("georadius", -6, flags!(WRITE | DENYOOM), KeySpec::ALL, G, Run::Keys(georadius))
        .key_specs(&GEORADIUS_KEYS)
        .doc("Queries a geospatial index for members within a distance from a coordinate, optionally stores the result.", "3.2.0", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.", "key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key|STOREDIST key]"),
    spec("georadiusbymember", -5, flags!(WRITE | DENYOOM), KeySpec::ALL, G, Run::Keys(georadiusbymember))
        .key_specs(&GEORADIUSBYMEMBER_KEYS)
        .doc("Queries a geospatial index for members within a distance from a member, optionally stores the result.", "3.2.0", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.", "key member radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key|STOREDIST key]"),
    spec("georadius_ro", -6, flags!(READONLY), KeySpec::ONE, G, Run::Keys(georadius_ro))
        .doc("Returns members from a geospatial index that are within a distance from a coordinate.", "3.2.10", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.", "key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]"),
    spec("georadiusbymember_ro", -5, flags!(READONLY), KeySpec::ONE, G, Run::Keys(georadiusbymember_ro))
        .doc("Returns members from a geospatial index that are within a distance from a member.", "3.2.10", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.", "key member radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]"),
    spec("geosearch", -7, flags!(READONLY), KeySpec::ONE, G, Run::Keys(geosearch))
        .doc("Queries a geospatial index for members inside an area of a box or a circle.", "6.2.0", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape", "key FROMMEMBER member|FROMLONLAT longitude latitude BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI [ASC|DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]"),
    spec("geosearchstore", -8, flags!(WRITE | DENYOOM), KeySpec::TWO, G, Run::Keys(geosearchstore))
        .doc("Queries a geospatial index for members inside an area of a box or a circle, optionally stores the result.", "6.2.0", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape", "destination source FROMMEMBER member|FROMLONLAT longitude latitude BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI [ASC|DESC] [COUNT count [ANY]] [STOREDIST]"),
];

// ---- arguments ------------------------------------------------------------------------------

fn err(msg: &'static str) -> OpError {
    OpError::other(msg)
}

const DECODE_ERR: &str = "ERR could not decode requested zset member";

/// Redis's `getDoubleFromObject` (C's `strtod` over the whole argument): no leading space, no
/// NaN, `inf` allowed, overflow and underflow to zero refused.
fn parse_double(arg: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(arg).ok()?;
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let body = s.trim_start_matches(['+', '-']);
    if body.len() + 1 < s.len() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let negative = s.starts_with('-');
    if lower == "inf" || lower == "infinity" {
        return Some(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if let Some(hex) = lower.strip_prefix("0x") {
        let v = parse_hex(hex)?;
        return Some(if negative { -v } else { v });
    }
    if !lower.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    if v.is_nan() || v.is_infinite() {
        return None;
    }
    // ERANGE towards zero: a non-zero mantissa that came out as zero.
    let mantissa = lower.split('e').next().unwrap_or("");
    if v == 0.0 && mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        return None;
    }
    Some(v)
}

/// The part of a C99 hexadecimal float after `0x` (`1.8p3`), as `strtod` reads it; overflow
/// and underflow to zero refused like the decimal forms.
fn parse_hex(hex: &str) -> Option<f64> {
    let (mantissa, exp) = match hex.split_once('p') {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (hex, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut bits: u64 = 0;
    let mut scale: i64 = i64::from(exp);
    let mut nonzero = false;
    for (i, c) in int.chars().chain(frac.chars()).enumerate() {
        let d = c.to_digit(16)?;
        nonzero |= d != 0;
        if bits >> 60 == 0 {
            bits = bits * 16 + u64::from(d);
            if i >= int.len() {
                scale -= 4;
            }
        } else if i < int.len() {
            scale += 4;
        }
    }
    let v = bits as f64 * 2f64.powi(scale.clamp(-2000, 2000) as i32);
    if v.is_infinite() || (v == 0.0 && nonzero) {
        return None;
    }
    Some(v)
}

fn float_or(arg: &[u8], msg: &'static str) -> Result<f64, OpError> {
    parse_double(arg).ok_or_else(|| err(msg))
}

/// `extractLongLatOrReply`.
#[allow(clippy::manual_range_contains)] // Redis's comparisons, as written
fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], OpError> {
    let x = float_or(lon, "ERR value is not a valid float")?;
    let y = float_or(lat, "ERR value is not a valid float")?;
    if x < geohash::LONG_MIN
        || x > geohash::LONG_MAX
        || y < geohash::LAT_MIN
        || y > geohash::LAT_MAX
    {
        return Err(OpError::other(format!(
            "ERR invalid longitude,latitude pair {x:.6},{y:.6}"
        )));
    }
    Ok([x, y])
}

/// `extractUnitOrReply`: meters per unit.
fn unit(arg: &[u8]) -> Result<f64, OpError> {
    if is_opt(arg, "m") {
        Ok(1.0)
    } else if is_opt(arg, "km") {
        Ok(1000.0)
    } else if is_opt(arg, "ft") {
        Ok(0.3048)
    } else if is_opt(arg, "mi") {
        Ok(1609.34)
    } else {
        Err(err(
            "ERR unsupported unit provided. please use M, KM, FT, MI",
        ))
    }
}

/// `extractDistanceOrReply`: (radius, meters per unit).
fn radius(args: &[Bytes]) -> Result<(f64, f64), OpError> {
    let r = float_or(&args[0], "ERR need numeric radius")?;
    if r < 0.0 {
        return Err(err("ERR radius cannot be negative"));
    }
    Ok((r, unit(&args[1])?))
}

/// `extractBoxOrReply`: (width, height, meters per unit).
fn box_size(args: &[Bytes]) -> Result<(f64, f64, f64), OpError> {
    let w = float_or(&args[0], "ERR need numeric width")?;
    let h = float_or(&args[1], "ERR need numeric height")?;
    if h < 0.0 || w < 0.0 {
        return Err(err("ERR height or width cannot be negative"));
    }
    Ok((w, h, unit(&args[2])?))
}

/// The position of a member (`longLatFromMember`).
fn member_pos(z: &ZSetValue, member: &[u8]) -> Option<[f64; 2]> {
    z.score(member).map(geohash::decode_score)
}

// ---- replies --------------------------------------------------------------------------------

/// `addReplyDoubleDistance`: `%.4f`.
fn distance_reply(d: f64) -> Reply {
    Reply::bulk(format!("{d:.4}"))
}

/// Redis's `ld2string(.., LD_STR_HUMAN)` of a double: `%.17Lf`, trailing zeros and point cut.
fn human_double(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.into();
    }
    let mut s = format!("{v:.17}");
    if s.contains('.') {
        let keep = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(keep);
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

fn coords_reply(lon: f64, lat: f64) -> Reply {
    Reply::Array(vec![
        Reply::DoubleText(human_double(lon)),
        Reply::DoubleText(human_double(lat)),
    ])
}

// ---- GEOADD, GEODIST, GEOHASH, GEOPOS -------------------------------------------------------

/// GEOADD key [NX|XX] [CH] lon lat member ...: ZADD with the positions turned into scores.
fn geoadd(ctx: &mut Ctx<'_>) -> CmdResult {
    let args = ctx.args;
    let mut longidx = 2;
    let (mut nx, mut xx) = (false, false);
    while let Some(a) = args.get(longidx) {
        if is_opt(a, "nx") {
            nx = true;
        } else if is_opt(a, "xx") {
            xx = true;
        } else if !is_opt(a, "ch") {
            break;
        }
        longidx += 1;
    }
    if (args.len() - longidx) % 3 != 0 || (xx && nx) {
        return Err(OpError::Syntax);
    }
    let mut zargs: Vec<Bytes> = Vec::with_capacity(longidx + (args.len() - longidx) / 3 * 2);
    zargs.push(Bytes::from_static(b"zadd"));
    zargs.extend(args[1..longidx].iter().cloned());
    for t in args[longidx..].chunks_exact(3) {
        let [lon, lat] = lon_lat(&t[0], &t[1])?;
        let score = geohash::encode_score(lon, lat).ok_or(OpError::NotFloat)?;
        zargs.push(Bytes::from(score.to_string()));
        zargs.push(t[2].clone());
    }
    let zadd = super::lookup(b"zadd").map(|s| &s.run);
    let Some(Run::Keys(zadd)) = zadd else {
        return Err(err("ERR internal: zadd is missing"));
    };
    let mut sub = Ctx {
        ks: &mut *ctx.ks,
        db: ctx.db,
        args: &zargs,
        now: ctx.now,
        max_string: ctx.max_string,
    };
    zadd(&mut sub)
}

fn geodist(ctx: &mut Ctx<'_>) -> CmdResult {
    let args = ctx.args;
    let to_meter = match args.len() {
        5 => unit(&args[4])?,
        n if n > 5 => return Err(OpError::Syntax),
        _ => 1.0,
    };
    let Some(z) = ctx.read_as::<ZSetValue>(&args[1])? else {
        return Ok(Reply::Null);
    };
    let (Some(a), Some(b)) = (z.score(&args[2]), z.score(&args[3])) else {
        return Ok(Reply::Null);
    };
    let [x1, y1] = geohash::decode_score(a);
    let [x2, y2] = geohash::decode_score(b);
    Ok(distance_reply(geohash::distance(x1, y1, x2, y2) / to_meter))
}

fn geohash_cmd(ctx: &mut Ctx<'_>) -> CmdResult {
    let args = ctx.args;
    let z = ctx.read_as::<ZSetValue>(&args[1])?;
    Ok(Reply::Array(
        args[2..]
            .iter()
            .map(|m| match z.and_then(|z| z.score(m)) {
                Some(s) => Reply::bulk(geohash::geohash_string(s).to_vec()),
                None => Reply::Null,
            })
            .collect(),
    ))
}

fn geopos(ctx: &mut Ctx<'_>) -> CmdResult {
    let args = ctx.args;
    let z = ctx.read_as::<ZSetValue>(&args[1])?;
    Ok(Reply::Array(
        args[2..]
            .iter()
            .map(|m| match z.and_then(|z| member_pos(z, m)) {
                Some([lon, lat]) => coords_reply(lon, lat),
                None => Reply::NullArray,
            })
            .collect(),
    ))
}

// ---- searching ------------------------------------------------------------------------------

/// A member found by a search (`geoPoint`).
#[derive(Clone, Debug)]
struct Point {
    member: Bytes,
    lon: f64,
    lat: f64,
    /// Meters until the reply divides it by the unit.
    dist: f64,
    score: f64,
}

/// `membersOfAllNeighbors`: the members inside the shape, cell by cell in Redis's order, each
/// cell's members by score; with a `limit` (COUNT .. ANY) it stops once it has that many.
fn search(z: &ZSetValue, shape: &Shape, limit: usize) -> Vec<Point> {
    let cells = geohash::areas_for_shape(shape);
    let mut found = Vec::new();
    let mut last_processed = 0;
    let full = |found: &Vec<Point>| !found.is_empty() && limit > 0 && found.len() >= limit;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        // Huge radii make neighbours repeat; Redis skips one equal to the last it searched (and
        // compares with nothing while that is the centre).
        if last_processed != 0 && *cell == cells[last_processed] {
            continue;
        }
        if full(&found) {
            break;
        }
        let (min, max) = geohash::score_range(*cell);
        let start = z.count_while(|s, _| s < min);
        for (member, score) in z.range(start, z.len(), false) {
            if score >= max {
                break;
            }
            let [lon, lat] = geohash::decode_score(score);
            if let Some(dist) = shape.distance_if_within(lon, lat) {
                found.push(Point {
                    member: Bytes::copy_from_slice(member),
                    lon,
                    lat,
                    dist,
                    score,
                });
            }
            if full(&found) {
                break;
            }
        }
        last_processed = i;
    }
    found
}

/// `sort_gp_asc`, with C's comparisons (a NaN distance is "less" than anything).
fn cmp_asc(a: &Point, b: &Point) -> Ordering {
    if a.dist > b.dist {
        Ordering::Greater
    } else if a.dist == b.dist {
        Ordering::Equal
    } else {
        Ordering::Less
    }
}

fn cmp_desc(a: &Point, b: &Point) -> Ordering {
    cmp_asc(a, b).reverse()
}

/// glibc's `qsort` for these sizes: its stable top-down merge sort (`msort_with_tmp`), with
/// the comparator as given (no total order needed).
fn merge_sort<T: Clone>(v: &mut [T], cmp: &impl Fn(&T, &T) -> Ordering) {
    if v.len() <= 1 {
        return;
    }
    let n1 = v.len() / 2;
    merge_sort(&mut v[..n1], cmp);
    merge_sort(&mut v[n1..], cmp);
    let mut merged = Vec::with_capacity(v.len());
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < v.len() {
        if cmp(&v[i], &v[j]) != Ordering::Greater {
            merged.push(v[i].clone());
            i += 1;
        } else {
            merged.push(v[j].clone());
            j += 1;
        }
    }
    merged.extend_from_slice(&v[i..n1]);
    merged.extend_from_slice(&v[j..]);
    v.clone_from_slice(&merged);
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> Ordering) -> usize {
    let lt = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Less;
    let gt = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Greater;
    if lt(a, b) {
        if lt(b, c) {
            b
        } else if lt(a, c) {
            c
        } else {
            a
        }
    } else if gt(b, c) {
        b
    } else if lt(a, c) {
        a
    } else {
        c
    }
}

fn insertion_sort<T>(v: &mut [T], a: usize, n: usize, cmp: &impl Fn(&T, &T) -> Ordering) {
    for pm in a + 1..a + n {
        let mut pl = pm;
        while pl > a && cmp(&v[pl - 1], &v[pl]) == Ordering::Greater {
            v.swap(pl, pl - 1);
            pl -= 1;
        }
    }
}

/// Redis's `pqsort` (Bentley-McIlroy quicksort that only sorts the parts overlapping the ranks
/// `lrange..=rrange`), on `v[a..a + n]`, step for step so that ties land where Redis puts them.
fn pqsort<T>(
    v: &mut [T],
    mut a: usize,
    mut n: usize,
    cmp: &impl Fn(&T, &T) -> Ordering,
    lrange: usize,
    rrange: usize,
) {
    loop {
        if n < 7 {
            insertion_sort(v, a, n, cmp);
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        let mut swapped = false;
        loop {
            while pb <= pc {
                let c = cmp(&v[pb], &v[a]);
                if c == Ordering::Greater {
                    break;
                }
                if c == Ordering::Equal {
                    swapped = true;
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let c = cmp(&v[pc], &v[a]);
                if c == Ordering::Less {
                    break;
                }
                if c == Ordering::Equal {
                    swapped = true;
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            swapped = true;
            pb += 1;
            pc -= 1;
        }
        if !swapped {
            insertion_sort(v, a, n, cmp);
            return;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && !(rrange < a || lrange >= a + r) {
            pqsort(v, a, r, cmp, lrange, rrange);
        }
        let r = pd - pc;
        if r <= 1 {
            return;
        }
        a = pn - r;
        n = r;
        if rrange < a || lrange >= a + n {
            return;
        }
    }
}

fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

// ---- GEORADIUS, GEOSEARCH and their forms ---------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// GEORADIUS, GEORADIUS_RO.
    Coords,
    /// GEORADIUSBYMEMBER, GEORADIUSBYMEMBER_RO.
    Member,
    Search,
    SearchStore,
}

#[derive(Clone, Copy, PartialEq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// What the arguments asked for.
struct Query {
    shape: Shape,
    withdist: bool,
    withhash: bool,
    withcoords: bool,
    sort: Sort,
    any: bool,
    count: usize,
    /// The argument index of the destination key.
    store: Option<usize>,
    storedist: bool,
}

/// Redis's `georadiusGeneric` up to the search: the arguments, checked in Redis's order, with
/// the source set (None when missing) for FROMMEMBER and BYMEMBER.
fn parse_query(
    args: &[Bytes],
    z: Option<&ZSetValue>,
    kind: Kind,
    nostore: bool,
) -> Result<Query, OpError> {
    let mut shape = Shape {
        xy: [0.0; 2],
        conversion: 1.0,
        kind: ShapeKind::Radius(0.0),
    };
    let mut store = None;
    let search = matches!(kind, Kind::Search | Kind::SearchStore);
    let base = match kind {
        Kind::Coords => {
            shape.xy = lon_lat(&args[2], &args[3])?;
            let (r, conv) = radius(&args[4..6])?;
            (shape.kind, shape.conversion) = (ShapeKind::Radius(r), conv);
            6
        }
        Kind::Member => {
            // Without a source set Redis goes straight to the options.
            if let Some(z) = z {
                shape.xy = member_pos(z, &args[2]).ok_or_else(|| err(DECODE_ERR))?;
                let (r, conv) = radius(&args[3..5])?;
                (shape.kind, shape.conversion) = (ShapeKind::Radius(r), conv);
            }
            5
        }
        Kind::Search => 2,
        Kind::SearchStore => {
            store = Some(1);
            3
        }
    };
    let mut q = Query {
        shape,
        withdist: false,
        withhash: false,
        withcoords: false,
        sort: Sort::None,
        any: false,
        count: 0,
        store,
        storedist: false,
    };
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let remaining = args.len().saturating_sub(base);
    let mut i = 0;
    while i < remaining {
        let j = base + i;
        let arg = &args[j];
        let has = |n: usize| i + n < remaining;
        if is_opt(arg, "withdist") {
            q.withdist = true;
        } else if is_opt(arg, "withhash") {
            q.withhash = true;
        } else if is_opt(arg, "withcoord") {
            q.withcoords = true;
        } else if is_opt(arg, "any") {
            q.any = true;
        } else if is_opt(arg, "asc") {
            q.sort = Sort::Asc;
        } else if is_opt(arg, "desc") {
            q.sort = Sort::Desc;
        } else if is_opt(arg, "count") && has(1) {
            let n = parse_i64(&args[j + 1]).ok_or(OpError::NotInteger)?;
            if n <= 0 {
                return Err(err("ERR COUNT must be > 0"));
            }
            q.count = usize::try_from(n).unwrap_or(usize::MAX);
            i += 1;
        } else if (is_opt(arg, "store") || is_opt(arg, "storedist"))
            && has(1)
            && !nostore
            && !search
        {
            q.store = Some(j + 1);
            q.storedist = is_opt(arg, "storedist");
            i += 1;
        } else if is_opt(arg, "storedist") && kind == Kind::SearchStore {
            q.storedist = true;
        } else if is_opt(arg, "frommember") && has(1) && search && !fromloc {
            if let Some(z) = z {
                q.shape.xy = member_pos(z, &args[j + 1]).ok_or_else(|| err(DECODE_ERR))?;
            }
            frommember = true;
            i += 1;
        } else if is_opt(arg, "fromlonlat") && has(2) && search && !frommember {
            q.shape.xy = lon_lat(&args[j + 1], &args[j + 2])?;
            fromloc = true;
            i += 2;
        } else if is_opt(arg, "byradius") && has(2) && search && !bybox {
            let (r, conv) = radius(&args[j + 1..j + 3])?;
            (q.shape.kind, q.shape.conversion) = (ShapeKind::Radius(r), conv);
            byradius = true;
            i += 2;
        } else if is_opt(arg, "bybox") && has(3) && search && !byradius {
            let (width, height, conv) = box_size(&args[j + 1..j + 4])?;
            (q.shape.kind, q.shape.conversion) = (ShapeKind::Box { width, height }, conv);
            bybox = true;
            i += 3;
        } else {
            return Err(OpError::Syntax);
        }
        i += 1;
    }
    if q.store.is_some() && (q.withdist || q.withhash || q.withcoords) {
        return Err(err(if kind == Kind::SearchStore {
            "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        } else {
            "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        }));
    }
    let name = || String::from_utf8_lossy(&args[0]).into_owned();
    if search && !(frommember || fromloc) {
        return Err(OpError::other(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}",
            name()
        )));
    }
    if search && !(byradius || bybox) {
        return Err(OpError::other(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {}",
            name()
        )));
    }
    if q.any && q.count == 0 {
        return Err(err("ERR the ANY argument requires COUNT argument"));
    }
    // COUNT without ANY returns the nearest ones.
    if q.count != 0 && q.sort == Sort::None && !q.any {
        q.sort = Sort::Asc;
    }
    Ok(q)
}

/// Sorts the points as asked and keeps at most COUNT of them.
fn order_points(mut points: Vec<Point>, q: &Query) -> Vec<Point> {
    let keep = if q.count == 0 {
        points.len()
    } else {
        points.len().min(q.count)
    };
    let cmp: fn(&Point, &Point) -> Ordering = match q.sort {
        Sort::None => {
            points.truncate(keep);
            return points;
        }
        Sort::Asc => cmp_asc,
        Sort::Desc => cmp_desc,
    };
    if keep == points.len() {
        merge_sort(&mut points, &cmp);
    } else if keep > 0 {
        let n = points.len();
        pqsort(&mut points, 0, n, &cmp, 0, keep - 1);
    }
    points.truncate(keep);
    points
}

fn search_reply(points: Vec<Point>, q: &Query) -> Reply {
    let options = q.withdist || q.withhash || q.withcoords;
    Reply::Array(
        points
            .into_iter()
            .map(|p| {
                if !options {
                    return Reply::Bulk(p.member);
                }
                let mut item = vec![Reply::Bulk(p.member)];
                if q.withdist {
                    item.push(distance_reply(p.dist / q.shape.conversion));
                }
                if q.withhash {
                    item.push(Reply::Int(geohash::score_as_i64(p.score)));
                }
                if q.withcoords {
                    item.push(coords_reply(p.lon, p.lat));
                }
                Reply::Array(item)
            })
            .collect(),
    )
}

/// Replaces `dst` with the points as a sorted set (scores: their geohash, or their distance in
/// the query's unit with STOREDIST); deletes it when there are none.
fn store_points(ctx: &mut Ctx<'_>, dst: &[u8], points: Vec<Point>, q: &Query) -> usize {
    let now = ctx.now;
    let existed = ctx.db().remove_live(dst, now).is_some();
    let n = points.len();
    if n == 0 && existed {
        ctx.notify(notify::GENERIC, "del", dst);
    }
    if n > 0 {
        let longest = points.iter().map(|p| p.member.len()).max().unwrap_or(0);
        let mut z = ZSetValue::with_hint(n, longest);
        for p in &points {
            let score = if q.storedist {
                p.dist / q.shape.conversion
            } else {
                p.score
            };
            z.insert(&p.member, score);
        }
        ctx.db().set(dst, Value::ZSet(z), now);
        let event = if super::is_opt(&ctx.args[0], "geosearchstore") {
            "geosearchstore"
        } else {
            "georadiusstore"
        };
        ctx.notify(notify::ZSET, event, dst);
    }
    n
}

/// Whether the destination at `idx` is one of the keys the command's key specs name: the
/// runtime locks and writes back only those, so a destination they miss (STORE given twice)
/// is refused rather than written on the wrong shard.
fn store_key_in_specs(args: &[Bytes], idx: usize) -> bool {
    super::lookup(&args[0]).is_some_and(|spec| spec.key_positions(args).contains(&idx))
}

/// Redis's `georadiusGeneric`: `src` is the index of the source key.
fn georadius_generic(ctx: &mut Ctx<'_>, src: usize, kind: Kind, nostore: bool) -> CmdResult {
    let args = ctx.args;
    let z = ctx.read_as::<ZSetValue>(&args[src])?;
    let q = parse_query(args, z, kind, nostore)?;
    if let Some(idx) = q.store {
        if !store_key_in_specs(args, idx) {
            return Err(err(
                "ERR STORE and STOREDIST may each be given only once in Ferrite",
            ));
        }
    }
    let points = z.map(|z| {
        let limit = if q.any { q.count } else { 0 };
        order_points(search(z, &q.shape, limit), &q)
    });
    match (q.store, points) {
        (None, None) => Ok(Reply::Array(Vec::new())),
        (None, Some(points)) => Ok(search_reply(points, &q)),
        (Some(idx), points) => {
            let n = store_points(ctx, &args[idx], points.unwrap_or_default(), &q);
            Ok(Reply::Int(n as i64))
        }
    }
}

fn georadius(ctx: &mut Ctx<'_>) -> CmdResult {
    georadius_generic(ctx, 1, Kind::Coords, false)
}

fn georadiusbymember(ctx: &mut Ctx<'_>) -> CmdResult {
    georadius_generic(ctx, 1, Kind::Member, false)
}

fn georadius_ro(ctx: &mut Ctx<'_>) -> CmdResult {
    georadius_generic(ctx, 1, Kind::Coords, true)
}

fn georadiusbymember_ro(ctx: &mut Ctx<'_>) -> CmdResult {
    georadius_generic(ctx, 1, Kind::Member, true)
}

fn geosearch(ctx: &mut Ctx<'_>) -> CmdResult {
    georadius_generic(ctx, 1, Kind::Search, false)
}

fn geosearchstore(ctx: &mut Ctx<'_>) -> CmdResult {
    georadius_generic(ctx, 2, Kind::SearchStore, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_doubles_like_redis() {
        assert_eq!(human_double(13.361389338970184), "13.36138933897018433");
        assert_eq!(human_double(2.0), "2");
        assert_eq!(human_double(-0.0), "0");
        assert_eq!(human_double(-0.5), "-0.5");
    }

    #[test]
    fn doubles_parse_like_strtod() {
        assert_eq!(parse_double(b"1.5"), Some(1.5));
        assert_eq!(parse_double(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_double(b".5"), Some(0.5));
        assert_eq!(parse_double(b"0"), Some(0.0));
        assert_eq!(parse_double(b"-0.0e10"), Some(0.0));
        assert_eq!(parse_double(b"nan"), None);
        assert_eq!(parse_double(b" 1"), None);
        assert_eq!(parse_double(b"1 "), None);
        assert_eq!(parse_double(b"1e400"), None);
        assert_eq!(parse_double(b"1e-400"), None);
        assert_eq!(parse_double(b"+-1"), None);
        assert_eq!(parse_double(b""), None);
        assert_eq!(parse_double(b"0x10"), Some(16.0));
        assert_eq!(parse_double(b"-0x1.8p1"), Some(-3.0));
        assert_eq!(parse_double(b"0x"), None);
        assert_eq!(parse_double(b"0xg"), None);
    }

    fn dists(v: &[(f64, u8)]) -> Vec<Point> {
        v.iter()
            .map(|&(d, m)| Point {
                member: Bytes::copy_from_slice(&[m]),
                lon: 0.0,
                lat: 0.0,
                dist: d,
                score: 0.0,
            })
            .collect()
    }

    #[test]
    fn partial_sort_orders_the_head() {
        let mut seed = 7u64;
        for n in [1usize, 5, 8, 40, 41, 100, 500] {
            let mut v: Vec<(f64, u8)> = (0..n)
                .map(|i| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (((seed >> 33) % 50) as f64, i as u8)
                })
                .collect();
            let mut pts = dists(&v);
            for k in [1, n / 2, n] {
                if k == 0 {
                    continue;
                }
                let mut p = pts.clone();
                pqsort(&mut p, 0, n, &cmp_asc, 0, k - 1);
                let mut want: Vec<f64> = p.iter().map(|p| p.dist).collect();
                want.sort_by(|a, b| a.total_cmp(b));
                let got: Vec<f64> = p[..k].iter().map(|p| p.dist).collect();
                assert_eq!(got, want[..k].to_vec(), "n={n} k={k}");
            }
            merge_sort(&mut pts, &cmp_asc);
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            let got: Vec<(f64, u8)> = pts.iter().map(|p| (p.dist, p.member[0])).collect();
            assert_eq!(got, v, "merge sort is stable");
        }
    }
}
