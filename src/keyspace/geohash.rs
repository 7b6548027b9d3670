//! Redis's geohash math (`geohash.c`, `geohash_helper.c` and the decoding helpers of `geo.c`,
//! Redis 7.0), with no knowledge of commands or sorted sets.
//!
//! A geo set is a sorted set whose scores are 52-bit geohashes: longitude and latitude each cut
//! into 2^26 steps over -180..180 and -85.05112878..85.05112878 (the Web Mercator limits), their
//! bits interleaved (longitude on the odd bits). Everything here repeats Redis's arithmetic
//! operation for operation, in the same order and with the same casts, so that scores, decoded
//! coordinates, distances and the boxes a search visits are Redis's bit for bit:
//! - a score becomes hash bits with C's `(uint64_t)` cast as x86-64 does it ([`score_bits`]);
//! - decoding takes the centre of the cell, clamped to the limits ([`decode_score`]);
//! - distances use the haversine formula with Redis's earth radius, 6372797.560856 m;
//! - a search covers the centre cell and its eight neighbours at a step estimated from the
//!   radius ([`areas_for_shape`]), skipping neighbours the bounding box cannot reach.

// Comparisons are written as Redis's C writes them (a NaN compares false there), not as ranges.
#![allow(clippy::manual_range_contains)]

use std::cmp::Ordering;
use std::f64::consts::PI;

/// Bits per coordinate in a score.
pub const STEP_MAX: u8 = 26;
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
/// Earth's quadratic mean radius for WGS-84, as Redis uses it.
pub const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
/// `M_PI / 180.0`, Redis's `D_R`.
const D_R: f64 = PI / 180.0;

fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

/// Geohash bits with their precision in steps per coordinate (`GeoHashBits`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    /// Redis's `HASHISZERO`: a neighbour excluded from a search.
    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The bits shifted to the 52-bit score scale (`geohashAlign52Bits`).
    pub fn align52(&self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

impl Range {
    fn is_zero(&self) -> bool {
        self.min == 0.0 && self.max == 0.0
    }
}

/// The cell a hash stands for.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Area {
    pub hash: HashBits,
    pub longitude: Range,
    pub latitude: Range,
}

/// The ranges scores are computed over.
pub const WGS84_LONG: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
pub const WGS84_LAT: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};
/// The latitude range of the standard geohash alphabet strings (GEOHASH).
pub const STANDARD_LAT: Range = Range {
    min: -90.0,
    max: 90.0,
};

/// Interleaves the low 32 bits of `x` (even positions) and `y` (odd positions).
fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
    ];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let mut x = u64::from(xlo);
    let mut y = u64::from(ylo);
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

/// Undoes [`interleave64`]: the even bits in the low half, the odd bits in the high half.
fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let mut x = interleaved;
    let mut y = interleaved >> 1;
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// `geohashEncode`: None where Redis returns 0 (bad step, coordinates outside the limits or the
/// ranges).
pub fn encode(
    long_range: Range,
    lat_range: Range,
    longitude: f64,
    latitude: f64,
    step: u8,
) -> Option<HashBits> {
    if step > 32 || step == 0 || lat_range.is_zero() || long_range.is_zero() {
        return None;
    }
    if longitude > LONG_MAX || longitude < LONG_MIN || latitude > LAT_MAX || latitude < LAT_MIN {
        return None;
    }
    if latitude < lat_range.min
        || latitude > lat_range.max
        || longitude < long_range.min
        || longitude > long_range.max
    {
        return None;
    }
    let mut lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min);
    let mut long_offset = (longitude - long_range.min) / (long_range.max - long_range.min);
    lat_offset *= (1u64 << step) as f64;
    long_offset *= (1u64 << step) as f64;
    Some(HashBits {
        bits: interleave64(lat_offset as u32, long_offset as u32),
        step,
    })
}

/// `geohashDecode`: the cell of a hash.
pub fn decode(long_range: Range, lat_range: Range, hash: HashBits) -> Option<Area> {
    if hash.is_zero() || lat_range.is_zero() || long_range.is_zero() {
        return None;
    }
    let step = hash.step;
    let sep = deinterleave64(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let cells = (1u64 << step) as f64;
    // `ilato + 1` is 32-bit arithmetic in Redis.
    Some(Area {
        hash,
        latitude: Range {
            min: lat_range.min + (f64::from(ilato) * 1.0 / cells) * lat_scale,
            max: lat_range.min + (f64::from(ilato.wrapping_add(1)) * 1.0 / cells) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (f64::from(ilono) * 1.0 / cells) * long_scale,
            max: long_range.min + (f64::from(ilono.wrapping_add(1)) * 1.0 / cells) * long_scale,
        },
    })
}

/// The centre of a cell, clamped to the limits (`geohashDecodeAreaToLongLat`).
fn area_center(area: &Area) -> [f64; 2] {
    let lon = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [lon, lat]
}

/// C's `(uint64_t)` conversion of a double as x86-64 compiles it (the value for out-of-range
/// input is what Redis's binary computes, not something the C standard defines).
pub fn score_bits(score: f64) -> u64 {
    const TWO63: f64 = 9223372036854775808.0;
    let cvtt = |v: f64| -> u64 {
        if v >= -TWO63 && v < TWO63 {
            v as i64 as u64
        } else {
            1 << 63
        }
    };
    if score >= TWO63 {
        cvtt(score - TWO63) ^ (1 << 63)
    } else {
        cvtt(score)
    }
}

/// C's `(long long)` conversion of a double on x86-64 (WITHHASH replies).
pub fn score_as_i64(score: f64) -> i64 {
    const TWO63: f64 = 9223372036854775808.0;
    if score >= -TWO63 && score < TWO63 {
        score as i64
    } else {
        i64::MIN
    }
}

/// The longitude and latitude a score stands for (`decodeGeohash`). Every score decodes: one
/// that is not a geohash lands somewhere, clamped, as in Redis.
pub fn decode_score(score: f64) -> [f64; 2] {
    let hash = HashBits {
        bits: score_bits(score),
        step: STEP_MAX,
    };
    decode(WGS84_LONG, WGS84_LAT, hash).map_or([0.0, 0.0], |a| area_center(&a))
}

/// The score GEOADD stores for a position; None outside the limits.
pub fn encode_score(longitude: f64, latitude: f64) -> Option<u64> {
    encode(WGS84_LONG, WGS84_LAT, longitude, latitude, STEP_MAX).map(|h| h.align52())
}

/// The 11-character standard geohash of a score (GEOHASH): the position decoded, encoded again
/// over -90..90 latitude, 5 bits per character, the 11th always '0'.
pub fn geohash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let [lon, lat] = decode_score(score);
    let bits = encode(WGS84_LONG, STANDARD_LAT, lon, lat, STEP_MAX).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[idx as usize];
    }
    out
}

fn move_x(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(hash.step) * 2;
    let mut x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let y = hash.bits & 0x5555555555555555;
    let zz = 0x5555555555555555u64 >> shift;
    if d > 0 {
        x = x.wrapping_add(zz.wrapping_add(1));
    } else {
        x |= zz;
        x = x.wrapping_sub(zz.wrapping_add(1));
    }
    x &= 0xaaaaaaaaaaaaaaaau64 >> shift;
    hash.bits = x | y;
}

fn move_y(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(hash.step) * 2;
    let x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = hash.bits & 0x5555555555555555;
    let zz = 0xaaaaaaaaaaaaaaaau64 >> shift;
    if d > 0 {
        y = y.wrapping_add(zz.wrapping_add(1));
    } else {
        y |= zz;
        y = y.wrapping_sub(zz.wrapping_add(1));
    }
    y &= 0x5555555555555555u64 >> shift;
    hash.bits = x | y;
}

/// The eight neighbours of a cell, in Redis's search order after the centre: north, south,
/// east, west, north-east, north-west, south-east, south-west.
#[derive(Clone, Copy, Debug, Default)]
pub struct Neighbors {
    pub north: HashBits,
    pub south: HashBits,
    pub east: HashBits,
    pub west: HashBits,
    pub north_east: HashBits,
    pub north_west: HashBits,
    pub south_east: HashBits,
    pub south_west: HashBits,
}

fn moved(hash: HashBits, dx: i8, dy: i8) -> HashBits {
    let mut h = hash;
    move_x(&mut h, dx);
    move_y(&mut h, dy);
    h
}

pub fn neighbors(hash: HashBits) -> Neighbors {
    Neighbors {
        east: moved(hash, 1, 0),
        west: moved(hash, -1, 0),
        south: moved(hash, 0, -1),
        north: moved(hash, 0, 1),
        north_west: moved(hash, -1, 1),
        north_east: moved(hash, 1, 1),
        south_east: moved(hash, 1, -1),
        south_west: moved(hash, -1, -1),
    }
}

/// The haversine great-circle distance in meters (`geohashGetDistance`).
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lat1r = deg_rad(lat1d);
    let lon1r = deg_rad(lon1d);
    let lat2r = deg_rad(lat2d);
    let lon2r = deg_rad(lon2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let v = ((lon2r - lon1r) / 2.0).sin();
    2.0 * EARTH_RADIUS_IN_METERS * (u * u + lat1r.cos() * lat2r.cos() * v * v).sqrt().asin()
}

/// What a search covers, around `xy` (longitude, latitude); lengths are in the unit whose size
/// in meters is `conversion`.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub xy: [f64; 2],
    pub conversion: f64,
    pub kind: ShapeKind,
}

#[derive(Clone, Copy, Debug)]
pub enum ShapeKind {
    Radius(f64),
    Box { width: f64, height: f64 },
}

impl Shape {
    /// The distance of a point from the centre when it lies in the shape
    /// (`geoAppendIfWithinShape`), in meters.
    pub fn distance_if_within(&self, lon: f64, lat: f64) -> Option<f64> {
        let [x1, y1] = self.xy;
        match self.kind {
            ShapeKind::Radius(r) => {
                let d = distance(x1, y1, lon, lat);
                // A NaN distance is "not greater" in Redis: it is kept.
                match d.partial_cmp(&(r * self.conversion)) {
                    Some(Ordering::Greater) => None,
                    _ => Some(d),
                }
            }
            ShapeKind::Box { width, height } => {
                let width_m = width * self.conversion;
                let height_m = height * self.conversion;
                let lon_distance = distance(lon, lat, x1, lat);
                let lat_distance = distance(lon, lat, lon, y1);
                if lon_distance > width_m / 2.0 || lat_distance > height_m / 2.0 {
                    return None;
                }
                Some(distance(x1, y1, lon, lat))
            }
        }
    }

    /// `geohashBoundingBox`: min longitude, min latitude, max longitude, max latitude.
    fn bounding_box(&self) -> [f64; 4] {
        let [longitude, latitude] = self.xy;
        let (height, width) = match self.kind {
            ShapeKind::Radius(r) => (self.conversion * r, self.conversion * r),
            ShapeKind::Box { width, height } => (
                self.conversion * (height / 2.0),
                self.conversion * (width / 2.0),
            ),
        };
        let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
        let long_delta_top =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude + lat_delta).cos());
        let long_delta_bottom =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude - lat_delta).cos());
        let southern = latitude < 0.0;
        let delta = if southern {
            long_delta_bottom
        } else {
            long_delta_top
        };
        [
            longitude - delta,
            latitude - lat_delta,
            longitude + delta,
            latitude + lat_delta,
        ]
    }

    /// The radius the step estimate uses: the radius, or the half-diagonal of a box, in meters.
    fn radius_meters(&self) -> f64 {
        let r = match self.kind {
            ShapeKind::Radius(r) => r,
            ShapeKind::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        };
        r * self.conversion
    }
}

/// `geohashEstimateStepsByRadius`.
pub fn estimate_steps_by_radius(range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if lat > 66.0 || lat < -66.0 {
        step -= 1;
        if lat > 80.0 || lat < -80.0 {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// The cells a search visits: the centre, then its neighbours in [`Neighbors`] order; excluded
/// neighbours are zero.
pub fn areas_for_shape(shape: &Shape) -> [HashBits; 9] {
    let [min_lon, min_lat, max_lon, max_lat] = shape.bounding_box();
    let [longitude, latitude] = shape.xy;
    let mut steps = estimate_steps_by_radius(shape.radius_meters(), latitude);
    let encode_at = |steps: u8| {
        let hash = encode(WGS84_LONG, WGS84_LAT, longitude, latitude, steps).unwrap_or_default();
        let area = decode(WGS84_LONG, WGS84_LAT, hash).unwrap_or_default();
        (hash, neighbors(hash), area)
    };
    let (mut hash, mut n, mut area) = encode_at(steps);
    let cell = |h: HashBits| decode(WGS84_LONG, WGS84_LAT, h).unwrap_or_default();
    let decrease = cell(n.north).latitude.max < max_lat
        || cell(n.south).latitude.min > min_lat
        || cell(n.east).longitude.max < max_lon
        || cell(n.west).longitude.min > min_lon;
    if steps > 1 && decrease {
        steps -= 1;
        (hash, n, area) = encode_at(steps);
    }
    if steps >= 2 {
        let zero = HashBits::default();
        if area.latitude.min < min_lat {
            (n.south, n.south_west, n.south_east) = (zero, zero, zero);
        }
        if area.latitude.max > max_lat {
            (n.north, n.north_east, n.north_west) = (zero, zero, zero);
        }
        if area.longitude.min < min_lon {
            (n.west, n.south_west, n.north_west) = (zero, zero, zero);
        }
        if area.longitude.max > max_lon {
            (n.east, n.south_east, n.north_east) = (zero, zero, zero);
        }
    }
    [
        hash,
        n.north,
        n.south,
        n.east,
        n.west,
        n.north_east,
        n.north_west,
        n.south_east,
        n.south_west,
    ]
}

/// The score range `[min, max)` of the members inside a cell (`scoresOfGeoHashBox`).
pub fn score_range(hash: HashBits) -> (f64, f64) {
    let min = hash.align52();
    let next = HashBits {
        bits: hash.bits.wrapping_add(1),
        step: hash.step,
    };
    (min as f64, next.align52() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_match_redis() {
        // Redis: GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania.
        assert_eq!(encode_score(13.361389, 38.115556), Some(3479099956230698));
        assert_eq!(encode_score(15.087269, 37.502669), Some(3479447370796909));
        assert_eq!(encode_score(200.0, 0.0), None);
        assert_eq!(encode_score(0.0, 85.06), None);
        // The exact limits encode, the top edge past the 52 bits, as in Redis.
        assert!(encode_score(180.0, 85.05112878).is_some());
        assert_eq!(encode_score(-180.0, -85.05112878), Some(0));
    }

    #[test]
    fn decodes_to_cell_centres() {
        let [lon, lat] = decode_score(3479099956230698.0);
        assert_eq!(format!("{lon:.17}"), "13.36138933897018433");
        assert_eq!(format!("{lat:.17}"), "38.11555639549629859");
        // Any score decodes; out-of-range ones clamp.
        let [lon, lat] = decode_score(-1.0);
        assert!((LONG_MIN..=LONG_MAX).contains(&lon) && (LAT_MIN..=LAT_MAX).contains(&lat));
    }

    #[test]
    fn geohash_strings_match_redis() {
        assert_eq!(&geohash_string(3479099956230698.0), b"sqc8b49rny0");
        assert_eq!(&geohash_string(3479447370796909.0), b"sqdtr74hyu0");
    }

    #[test]
    fn distance_matches_redis() {
        let [a, b] = decode_score(3479099956230698.0);
        let [c, d] = decode_score(3479447370796909.0);
        assert_eq!(format!("{:.4}", distance(a, b, c, d)), "166274.1516");
        assert_eq!(distance(a, b, a, b), 0.0);
    }

    #[test]
    fn interleave_round_trips() {
        for (x, y) in [
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (0x3ffffff, 0x1234567),
            (u32::MAX, 7),
        ] {
            let d = deinterleave64(interleave64(x, y));
            assert_eq!((d as u32, (d >> 32) as u32), (x, y));
        }
    }

    #[test]
    fn steps_follow_the_radius() {
        assert_eq!(estimate_steps_by_radius(0.0, 0.0), 26);
        assert_eq!(estimate_steps_by_radius(1.0, 0.0), 24);
        assert_eq!(estimate_steps_by_radius(200_000.0, 0.0), 6);
        assert_eq!(estimate_steps_by_radius(200_000.0, 70.0), 5);
        assert_eq!(estimate_steps_by_radius(200_000.0, -81.0), 4);
        assert_eq!(estimate_steps_by_radius(f64::INFINITY, 0.0), 1);
    }

    #[test]
    fn neighbours_are_adjacent_cells() {
        let h = encode(WGS84_LONG, WGS84_LAT, 15.0, 37.0, 10).unwrap_or_default();
        let n = neighbors(h);
        let c = decode(WGS84_LONG, WGS84_LAT, h).unwrap_or_default();
        let e = decode(WGS84_LONG, WGS84_LAT, n.east).unwrap_or_default();
        let s = decode(WGS84_LONG, WGS84_LAT, n.south).unwrap_or_default();
        assert_eq!(e.longitude.min, c.longitude.max);
        assert_eq!(e.latitude, c.latitude);
        assert_eq!(s.latitude.max, c.latitude.min);
    }

    #[test]
    fn casts_like_x86_64() {
        assert_eq!(score_bits(3.0), 3);
        assert_eq!(score_bits(-1.0), u64::MAX);
        assert_eq!(score_bits(f64::INFINITY), 0);
        assert_eq!(score_bits(f64::NEG_INFINITY), 1 << 63);
        assert_eq!(score_bits(1.8e19), 18000000000000000000);
        assert_eq!(score_as_i64(-1.5), -1);
        assert_eq!(score_as_i64(f64::INFINITY), i64::MIN);
    }

    #[test]
    fn search_areas_cover_the_shape() {
        let shape = Shape {
            xy: [15.0, 37.0],
            conversion: 1000.0,
            kind: ShapeKind::Radius(200.0),
        };
        let areas = areas_for_shape(&shape);
        assert!(!areas[0].is_zero());
        let center = encode_score(15.0, 37.0).unwrap_or_default() as f64;
        let (lo, hi) = score_range(areas[0]);
        assert!(lo <= center && center < hi);
    }
}
