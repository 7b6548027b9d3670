//! Geo commands against the real `ferrite` binary with four shards: every command and option,
//! error texts and their order, RESP3 reply shapes, GEOSEARCHSTORE and GEORADIUS ... STORE with
//! source and destination on different shards, geo sets as plain sorted sets (scores, DUMP and
//! RESTORE), and a differential run against Debian's redis-server 7.0 comparing reply bytes:
//! the Sicily example, a few hundred seeded random points (some sharing a position, some at
//! the limits), searches by radius and by box with every combination of options, in RESP2 and
//! RESP3.
//!
//! `FERRITE_IT_TARGET=redis cargo test --test geo` runs these against redis-server instead.

#[macro_use]
mod common;

use common::{against_redis, frame_end, split_line, Client, Reply, Server, SPREAD_KEYS};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const SYNTAX: &str = "ERR syntax error";
const NOT_FLOAT: &str = "ERR value is not a valid float";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const BAD_UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";
const DECODE: &str = "ERR could not decode requested zset member";

const PALERMO: &str = "3479099956230698";
const CATANIA: &str = "3479447370796909";
const PALERMO_XY: [&str; 2] = ["13.36138933897018433", "38.11555639549629859"];
const CATANIA_XY: [&str; 2] = ["15.08726745843887329", "37.50266842333162032"];

fn sicily(c: &mut Client, key: &str) {
    check!(
        c,
        &format!("GEOADD {key} 13.361389 38.115556 Palermo 15.087269 37.502669 Catania"),
        Reply::int(2)
    );
}

/// A coordinate pair as GEOPOS / WITHCOORD reply it in RESP2.
fn xy(p: [&str; 2]) -> Reply {
    Reply::bulks(&p)
}

fn args_err(cmd: &str) -> Reply {
    Reply::err(&format!(
        "ERR wrong number of arguments for '{cmd}' command"
    ))
}

#[test]
fn geoadd_stores_redis_scores() {
    let s = Server::start(4);
    let mut c = s.client();
    sicily(&mut c, "Sicily");
    check!(c, "TYPE Sicily", Reply::status("zset"));
    check!(
        c,
        "ZRANGE Sicily 0 -1 WITHSCORES",
        Reply::bulks(&["Palermo", PALERMO, "Catania", CATANIA])
    );
    check!(c, "ZSCORE Sicily Palermo", Reply::bulk(PALERMO));
    // Options: NX, XX, CH (ZADD's, through GEOADD).
    check!(c, "GEOADD Sicily NX 13 38 Palermo 1 1 new", Reply::int(1));
    check!(c, "ZSCORE Sicily Palermo", Reply::bulk(PALERMO));
    check!(c, "GEOADD Sicily XX 13 38 Palermo 2 2 other", Reply::int(0));
    check!(c, "ZSCORE Sicily other", Reply::nil());
    check!(c, "ZSCORE Sicily Palermo", Reply::bulk("3479065152021743"));
    check!(c, "GEOADD Sicily CH 13 38 Palermo 3 3 ch", Reply::int(1));
    check!(
        c,
        "GEOADD Sicily CH XX 13.361389 38.115556 Palermo 4 4 nope",
        Reply::int(1)
    );
    check!(c, "GEOADD Sicily ch nx 1 1 new 5 5 five", Reply::int(1));
    check!(c, "ZCARD Sicily", Reply::int(5));
    check!(c, "GEOADD fresh XX 1 1 a", Reply::int(0));
    check!(c, "EXISTS fresh", Reply::int(0));
    // The limits themselves are accepted.
    check!(
        c,
        "GEOADD edges -180 -85.05112878 sw 180 85.05112878 ne",
        Reply::int(2)
    );
    check!(c, "ZSCORE edges sw", Reply::bulk("0"));
    check!(c, "ZSCORE edges ne", Reply::bulk("13510798882111488"));

    check!(
        c,
        "GEOADD x 200 100 a",
        Reply::err("ERR invalid longitude,latitude pair 200.000000,100.000000")
    );
    check!(
        c,
        "GEOADD x 1 85.06 a",
        Reply::err("ERR invalid longitude,latitude pair 1.000000,85.060000")
    );
    check!(
        c,
        "GEOADD x -inf 0 a",
        Reply::err("ERR invalid longitude,latitude pair -inf,0.000000")
    );
    check!(
        c,
        "GEOADD x 1 1 a 200 0 b",
        Reply::err("ERR invalid longitude,latitude pair 200.000000,0.000000")
    );
    check!(c, "EXISTS x", Reply::int(0));
    check!(c, "GEOADD x abc 1 a", Reply::err(NOT_FLOAT));
    check!(c, "GEOADD x 1 nan a", Reply::err(NOT_FLOAT));
    check!(c, "GEOADD x \" 1\" 1 a", Reply::err(NOT_FLOAT));
    check!(c, "GEOADD x 1 2 a 3", Reply::err(SYNTAX));
    check!(c, "GEOADD x NX XX 1 2 a", Reply::err(SYNTAX));
    check!(c, "GEOADD x GT 1 2 a", Reply::err(SYNTAX));
    check!(c, "GEOADD x NX 1 2", Reply::err(SYNTAX));
    check!(c, "GEOADD x 1 2", args_err("geoadd"));
    c.setup("SET str v");
    check!(c, "GEOADD str 1 2 a", Reply::err(WRONGTYPE));
    // Coordinates are checked before the key's type, as in Redis.
    check!(
        c,
        "GEOADD str 200 2 a",
        Reply::err("ERR invalid longitude,latitude pair 200.000000,2.000000")
    );
}

#[test]
fn geopos_geohash_geodist() {
    let s = Server::start(4);
    let mut c = s.client();
    sicily(&mut c, "Sicily");
    check!(
        c,
        "GEOADD Sicily 12.758489 38.788135 edge1 17.241510 38.788135 edge2",
        Reply::int(2)
    );
    c.setup("SET str v");

    check!(
        c,
        "GEOPOS Sicily Palermo nosuch Catania",
        Reply::arr(vec![xy(PALERMO_XY), Reply::NilArray, xy(CATANIA_XY)])
    );
    check!(
        c,
        "GEOPOS Sicily edge1",
        Reply::arr(vec![xy(["12.7584877610206604", "38.78813451624225195"])])
    );
    check!(c, "GEOPOS Sicily", Reply::arr(vec![]));
    check!(
        c,
        "GEOPOS nokey a b",
        Reply::arr(vec![Reply::NilArray, Reply::NilArray])
    );
    check!(c, "GEOPOS str a", Reply::err(WRONGTYPE));
    check!(c, "GEOPOS", args_err("geopos"));

    check!(
        c,
        "GEOHASH Sicily Palermo Catania edge1 edge2 nosuch",
        Reply::arr(vec![
            Reply::bulk("sqc8b49rny0"),
            Reply::bulk("sqdtr74hyu0"),
            Reply::bulk("sqchdm4mq20"),
            Reply::bulk("squk8m4vk20"),
            Reply::nil(),
        ])
    );
    check!(c, "GEOHASH nokey a", Reply::arr(vec![Reply::nil()]));
    check!(c, "GEOHASH Sicily", Reply::arr(vec![]));
    check!(c, "GEOHASH str a", Reply::err(WRONGTYPE));

    check!(
        c,
        "GEODIST Sicily Palermo Catania",
        Reply::bulk("166274.1516")
    );
    check!(
        c,
        "GEODIST Sicily Palermo Catania m",
        Reply::bulk("166274.1516")
    );
    check!(
        c,
        "GEODIST Sicily Palermo Catania KM",
        Reply::bulk("166.2742")
    );
    check!(
        c,
        "GEODIST Sicily Palermo Catania mi",
        Reply::bulk("103.3182")
    );
    check!(
        c,
        "GEODIST Sicily Palermo Catania ft",
        Reply::bulk("545518.8700")
    );
    check!(c, "GEODIST Sicily Palermo Palermo", Reply::bulk("0.0000"));
    check!(c, "GEODIST Sicily Palermo nosuch", Reply::nil());
    check!(c, "GEODIST nokey a b", Reply::nil());
    check!(c, "GEODIST Sicily Palermo Catania yd", Reply::err(BAD_UNIT));
    check!(c, "GEODIST Sicily Palermo Catania km x", Reply::err(SYNTAX));
    check!(c, "GEODIST str a b", Reply::err(WRONGTYPE));
    // The unit is checked before the key.
    check!(c, "GEODIST str a b parsec", Reply::err(BAD_UNIT));
    check!(c, "GEODIST Sicily a", args_err("geodist"));

    // Members of a plain sorted set decode as Redis decodes them.
    c.setup("ZADD plain 0 zero -1 neg 1.5 frac 1e300 huge");
    let pos = c.line("GEOPOS plain zero neg frac huge");
    assert_eq!(pos.items().len(), 4);
    assert!(pos.items().iter().all(|p| p.items().len() == 2), "{pos:?}");
    check!(
        c,
        "GEOPOS plain zero",
        Reply::arr(vec![xy([
            "-179.99999731779098511",
            "-85.05112751263942528"
        ])])
    );
    check!(
        c,
        "GEOHASH plain zero",
        Reply::arr(vec![Reply::bulk("00bh0hbj200")])
    );
}

#[test]
fn georadius_and_bymember() {
    let s = Server::start(4);
    let mut c = s.client();
    sicily(&mut c, "Sicily");
    c.setup("SET str v");

    check!(
        c,
        "GEORADIUS Sicily 15 37 200 km",
        Reply::bulks(&["Palermo", "Catania"])
    );
    check!(
        c,
        "GEORADIUS Sicily 15 37 100 km",
        Reply::bulks(&["Catania"])
    );
    check!(c, "GEORADIUS Sicily 15 37 1 m", Reply::bulks(&[]));
    check!(
        c,
        "GEORADIUS Sicily 15 37 200 km WITHDIST",
        Reply::arr(vec![
            Reply::bulks(&["Palermo", "190.4424"]),
            Reply::bulks(&["Catania", "56.4413"]),
        ])
    );
    check!(
        c,
        "GEORADIUS Sicily 15 37 200 km WITHCOORD",
        Reply::arr(vec![
            Reply::arr(vec![Reply::bulk("Palermo"), xy(PALERMO_XY)]),
            Reply::arr(vec![Reply::bulk("Catania"), xy(CATANIA_XY)]),
        ])
    );
    // Option order in the reply is fixed: member, distance, hash, coordinates.
    check!(
        c,
        "GEORADIUS Sicily 15 37 200 km WITHCOORD WITHHASH WITHDIST ASC",
        Reply::arr(vec![
            Reply::arr(vec![
                Reply::bulk("Catania"),
                Reply::bulk("56.4413"),
                Reply::int(CATANIA.parse().unwrap()),
                xy(CATANIA_XY),
            ]),
            Reply::arr(vec![
                Reply::bulk("Palermo"),
                Reply::bulk("190.4424"),
                Reply::int(PALERMO.parse().unwrap()),
                xy(PALERMO_XY),
            ]),
        ])
    );
    check!(
        c,
        "GEORADIUS Sicily 15 37 200 km DESC",
        Reply::bulks(&["Palermo", "Catania"])
    );
    check!(
        c,
        "GEORADIUS Sicily 15 37 200 km COUNT 1",
        Reply::bulks(&["Catania"])
    );
    check!(
        c,
        "GEORADIUS Sicily 15 37 200 km COUNT 1 DESC",
        Reply::bulks(&["Palermo"])
    );
    check!(
        c,
        "GEORADIUS Sicily 15 37 200 km COUNT 1 ANY",
        Reply::bulks(&["Palermo"])
    );
    check!(
        c,
        "GEORADIUS Sicily 15 37 124 mi WITHDIST",
        Reply::arr(vec![
            Reply::bulks(&["Palermo", "118.3357"]),
            Reply::bulks(&["Catania", "35.0711"]),
        ])
    );
    check!(
        c,
        "GEORADIUS_RO Sicily 15 37 200 km ASC",
        Reply::bulks(&["Catania", "Palermo"])
    );
    check!(
        c,
        "GEORADIUSBYMEMBER Sicily Palermo 200 km WITHDIST",
        Reply::arr(vec![
            Reply::bulks(&["Palermo", "0.0000"]),
            Reply::bulks(&["Catania", "166.2742"]),
        ])
    );
    check!(
        c,
        "GEORADIUSBYMEMBER_RO Sicily Catania 100 km",
        Reply::bulks(&["Catania"])
    );
    check!(c, "GEORADIUS nokey 15 37 200 km", Reply::bulks(&[]));
    check!(c, "GEORADIUSBYMEMBER nokey a 200 km", Reply::bulks(&[]));
    // Without a source set Redis does not look at the radius of a BYMEMBER search.
    check!(c, "GEORADIUSBYMEMBER nokey a x y", Reply::bulks(&[]));

    // Errors, in Redis's order.
    check!(c, "GEORADIUS str 15 37 200 km", Reply::err(WRONGTYPE));
    check!(c, "GEORADIUS str 15 x 200 km", Reply::err(WRONGTYPE));
    check!(c, "GEORADIUS Sicily x 37 200 km", Reply::err(NOT_FLOAT));
    check!(
        c,
        "GEORADIUS Sicily 15 90 200 km",
        Reply::err("ERR invalid longitude,latitude pair 15.000000,90.000000")
    );
    check!(
        c,
        "GEORADIUS Sicily 15 37 x km",
        Reply::err("ERR need numeric radius")
    );
    check!(
        c,
        "GEORADIUS Sicily 15 37 -1 km",
        Reply::err("ERR radius cannot be negative")
    );
    check!(c, "GEORADIUS Sicily 15 37 200 parsec", Reply::err(BAD_UNIT));
    check!(c, "GEORADIUS Sicily 15 37 200 km COUNT", Reply::err(SYNTAX));
    check!(
        c,
        "GEORADIUS Sicily 15 37 200 km COUNT x",
        Reply::err(NOT_INT)
    );
    check!(
        c,
        "GEORADIUS Sicily 15 37 200 km COUNT 0",
        Reply::err("ERR COUNT must be > 0")
    );
    check!(
        c,
        "GEORADIUS Sicily 15 37 200 km ANY",
        Reply::err("ERR the ANY argument requires COUNT argument")
    );
    check!(c, "GEORADIUS Sicily 15 37 200 km BOGUS", Reply::err(SYNTAX));
    check!(
        c,
        "GEORADIUS Sicily 15 37 200 km FROMLONLAT 1 1",
        Reply::err(SYNTAX)
    );
    check!(c, "GEORADIUS Sicily 15 37 200 km STORE", Reply::err(SYNTAX));
    check!(
        c,
        "GEORADIUS Sicily 15 37 200 km STORE dst WITHDIST",
        Reply::err(
            "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )
    );
    check!(
        c,
        "GEORADIUS_RO Sicily 15 37 200 km STORE dst",
        Reply::err(SYNTAX)
    );
    check!(
        c,
        "GEORADIUSBYMEMBER_RO Sicily Palermo 200 km STOREDIST dst",
        Reply::err(SYNTAX)
    );
    check!(
        c,
        "GEORADIUSBYMEMBER Sicily nosuch 200 km",
        Reply::err(DECODE)
    );
    check!(
        c,
        "GEORADIUSBYMEMBER Sicily Palermo x km",
        Reply::err("ERR need numeric radius")
    );
    check!(c, "GEORADIUS Sicily 15 37 200", args_err("georadius"));
    check!(
        c,
        "GEORADIUSBYMEMBER Sicily a 200",
        args_err("georadiusbymember")
    );
}

#[test]
fn geosearch_shapes_options_and_errors() {
    let s = Server::start(4);
    let mut c = s.client();
    sicily(&mut c, "Sicily");
    check!(
        c,
        "GEOADD Sicily 12.758489 38.788135 edge1 17.241510 38.788135 edge2",
        Reply::int(2)
    );
    c.setup("SET str v");

    check!(
        c,
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC",
        Reply::bulks(&["Catania", "Palermo"])
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD WITHDIST",
        Reply::arr(vec![
            Reply::arr(vec![
                Reply::bulk("Catania"),
                Reply::bulk("56.4413"),
                xy(CATANIA_XY),
            ]),
            Reply::arr(vec![
                Reply::bulk("Palermo"),
                Reply::bulk("190.4424"),
                xy(PALERMO_XY),
            ]),
            Reply::arr(vec![
                Reply::bulk("edge2"),
                Reply::bulk("279.7403"),
                xy(["17.24151045083999634", "38.78813451624225195"]),
            ]),
            Reply::arr(vec![
                Reply::bulk("edge1"),
                Reply::bulk("279.7405"),
                xy(["12.7584877610206604", "38.78813451624225195"]),
            ]),
        ])
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 100 mi",
        Reply::bulks(&["Palermo", "edge1"])
    );
    check!(
        c,
        "geosearch Sicily frommember Palermo bybox 200 200 KM desc count 2 withhash",
        Reply::arr(vec![
            Reply::arr(vec![Reply::bulk("edge1"), Reply::int(3479273021651468)]),
            Reply::arr(vec![
                Reply::bulk("Palermo"),
                Reply::int(PALERMO.parse().unwrap())
            ]),
        ])
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km COUNT 2 ANY",
        Reply::bulks(&["Palermo", "edge1"])
    );
    check!(
        c,
        "GEOSEARCH nokey FROMMEMBER x BYRADIUS 1 km",
        Reply::bulks(&[])
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1 km",
        Reply::bulks(&[])
    );

    let from = |cmd: &str| {
        Reply::err(&format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {cmd}"
        ))
    };
    let by = |cmd: &str| {
        Reply::err(&format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {cmd}"
        ))
    };
    check!(
        c,
        "GEOSEARCH Sicily BYRADIUS 1 km ASC WITHDIST",
        from("GEOSEARCH")
    );
    check!(
        c,
        "geosearch Sicily BYRADIUS 1 km ASC WITHDIST",
        from("geosearch")
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMLONLAT 1 1 ASC WITHDIST",
        by("GEOSEARCH")
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMLONLAT 1 1 WITHDIST WITHHASH",
        by("GEOSEARCH")
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMLONLAT 1 1 FROMMEMBER Palermo BYRADIUS 1 km",
        Reply::err(SYNTAX)
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMMEMBER Palermo FROMLONLAT 1 1 BYRADIUS 1 km",
        Reply::err(SYNTAX)
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km BYBOX 1 1 km",
        Reply::err(SYNTAX)
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 1 1 km BYRADIUS 1 km",
        Reply::err(SYNTAX)
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMMEMBER nosuch BYRADIUS 1 km",
        Reply::err(DECODE)
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMLONLAT 1 100 BYRADIUS 1 km",
        Reply::err("ERR invalid longitude,latitude pair 1.000000,100.000000")
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMLONLAT 1 1 BYBOX x 1 km",
        Reply::err("ERR need numeric width")
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMLONLAT 1 1 BYBOX 1 x km",
        Reply::err("ERR need numeric height")
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMLONLAT 1 1 BYBOX 1 -1 km",
        Reply::err("ERR height or width cannot be negative")
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMLONLAT 1 1 BYBOX 1 1 furlong",
        Reply::err(BAD_UNIT)
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMLONLAT 1 1 BYRADIUS 1 km STORE x",
        Reply::err(SYNTAX)
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMLONLAT 1 1 BYRADIUS 1 km STOREDIST",
        Reply::err(SYNTAX)
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMLONLAT 1 1 BYRADIUS 1 km ANY",
        Reply::err("ERR the ANY argument requires COUNT argument")
    );
    check!(
        c,
        "GEOSEARCH Sicily FROMLONLAT 1 1 BYRADIUS 1 km COUNT -3",
        Reply::err("ERR COUNT must be > 0")
    );
    check!(
        c,
        "GEOSEARCH str FROMLONLAT 1 1 BYRADIUS 1 km",
        Reply::err(WRONGTYPE)
    );
    check!(c, "GEOSEARCH Sicily FROMLONLAT 1 1", args_err("geosearch"));
    check!(
        c,
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHCOORD",
        Reply::err(
            "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )
    );
    check!(
        c,
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STORE x",
        Reply::err(SYNTAX)
    );
    check!(
        c,
        "GEOSEARCHSTORE dst Sicily BYRADIUS 200 km ASC DESC",
        from("GEOSEARCHSTORE")
    );
    check!(
        c,
        "GEOSEARCHSTORE dst str FROMLONLAT 15 37 BYRADIUS 200 km",
        Reply::err(WRONGTYPE)
    );
    check!(c, "EXISTS dst", Reply::int(0));
}

/// The scores of a sorted set, parsed, by member.
fn scores(c: &mut Client, key: &str) -> Vec<(String, f64)> {
    c.cmd(&["ZRANGE", key, "0", "-1", "WITHSCORES"])
        .strings()
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].parse().expect("a score")))
        .collect()
}

#[test]
fn stores_across_shards() {
    let s = Server::start(4);
    let mut c = s.client();
    // Source and destination on different shards (SPREAD_KEYS a..d land on shards 0..3).
    let [src, d1, d2, d3] = [
        SPREAD_KEYS[0],
        SPREAD_KEYS[1],
        SPREAD_KEYS[2],
        SPREAD_KEYS[3],
    ];
    sicily(&mut c, src);
    check!(
        c,
        &format!("GEOADD {src} 12.758489 38.788135 edge1 17.241510 38.788135 edge2"),
        Reply::int(2)
    );

    check!(
        c,
        &format!("GEOSEARCHSTORE {d1} {src} FROMLONLAT 15 37 BYBOX 400 400 km ASC COUNT 3"),
        Reply::int(3)
    );
    check!(
        c,
        &format!("ZRANGE {d1} 0 -1 WITHSCORES"),
        Reply::bulks(&[
            "Palermo",
            PALERMO,
            "Catania",
            CATANIA,
            "edge2",
            "3481342659049484"
        ])
    );
    check!(
        c,
        &format!("GEOPOS {d1} Catania"),
        Reply::arr(vec![xy(CATANIA_XY)])
    );
    check!(
        c,
        &format!(
            "GEOSEARCHSTORE {d2} {src} FROMLONLAT 15 37 BYBOX 400 400 km ASC COUNT 3 STOREDIST"
        ),
        Reply::int(3)
    );
    let got = scores(&mut c, d2);
    let want = [
        ("Catania", 56.4412578701582),
        ("Palermo", 190.44242984775784),
        ("edge2", 279.7403417843143),
    ];
    assert_eq!(got.len(), 3, "{got:?}");
    for ((m, s), (wm, ws)) in got.iter().zip(want) {
        assert_eq!(m, wm);
        assert!((s - ws).abs() < 1e-9, "{m}: {s} vs {ws}");
    }

    // GEORADIUS and GEORADIUSBYMEMBER with STORE / STOREDIST.
    check!(
        c,
        &format!("GEORADIUS {src} 15 37 200 km STORE {d3}"),
        Reply::int(2)
    );
    check!(
        c,
        &format!("ZRANGE {d3} 0 -1"),
        Reply::bulks(&["Palermo", "Catania"])
    );
    check!(
        c,
        &format!("GEORADIUS {src} 15 37 200 km STOREDIST {d3} DESC COUNT 1"),
        Reply::int(1)
    );
    let got = scores(&mut c, d3);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "Palermo");
    assert!((got[0].1 - 190.44242984775784).abs() < 1e-9, "{got:?}");
    check!(
        c,
        &format!("GEORADIUSBYMEMBER {src} Palermo 100 km STORE {d1}"),
        Reply::int(2)
    );
    check!(
        c,
        &format!("ZRANGE {d1} 0 -1"),
        Reply::bulks(&["Palermo", "edge1"])
    );
    // The destination is replaced whatever it held, and loses its TTL.
    c.setup(&format!("SET {d2} string"));
    c.setup(&format!("EXPIRE {d2} 1000"));
    check!(
        c,
        &format!("GEORADIUS {src} 15 37 200 km STORE {d2}"),
        Reply::int(2)
    );
    check!(c, &format!("TYPE {d2}"), Reply::status("zset"));
    check!(c, &format!("TTL {d2}"), Reply::int(-1));
    // Nothing found, or no source: the destination is deleted.
    check!(
        c,
        &format!("GEORADIUS {src} 0 0 1 km STORE {d2}"),
        Reply::int(0)
    );
    check!(c, &format!("EXISTS {d2}"), Reply::int(0));
    c.setup(&format!("SET {d2} string"));
    check!(
        c,
        &format!("GEOSEARCHSTORE {d2} nokey FROMMEMBER x BYRADIUS 1 km"),
        Reply::int(0)
    );
    check!(c, &format!("EXISTS {d2}"), Reply::int(0));
    c.setup(&format!("SET {d2} string"));
    check!(
        c,
        &format!("GEORADIUSBYMEMBER nokey x 1 km STORE {d2}"),
        Reply::int(0)
    );
    check!(c, &format!("EXISTS {d2}"), Reply::int(0));
    // Storing into the source itself.
    check!(
        c,
        &format!("GEOSEARCHSTORE {src} {src} FROMLONLAT 15 37 BYRADIUS 100 km"),
        Reply::int(1)
    );
    check!(c, &format!("ZRANGE {src} 0 -1"), Reply::bulks(&["Catania"]));
    // A type error leaves the destination alone.
    c.setup(&format!("SET {d3} string"));
    check!(
        c,
        &format!("GEORADIUS {d3} 15 37 200 km STORE {d1}"),
        Reply::err(WRONGTYPE)
    );
    check!(c, &format!("TYPE {d1}"), Reply::status("zset"));
    // COMMAND GETKEYS finds the destination after STORE / STOREDIST.
    check!(
        c,
        "COMMAND GETKEYS GEORADIUS src 15 37 200 km COUNT 3 STORE dst",
        Reply::bulks(&["src", "dst"])
    );
    check!(
        c,
        "COMMAND GETKEYS GEORADIUSBYMEMBER src m 200 km STOREDIST dst",
        Reply::bulks(&["src", "dst"])
    );
    check!(
        c,
        "COMMAND GETKEYS GEOSEARCHSTORE dst src FROMMEMBER m BYRADIUS 1 m",
        Reply::bulks(&["dst", "src"])
    );
    if !against_redis() {
        // Redis stores into the last of two STOREs; Ferrite's key specs (Redis's) name the
        // first, so it refuses rather than write a key it does not hold.
        check!(
            c,
            &format!("GEORADIUS {src} 15 37 200 km STORE {d1} STORE {d2}"),
            Reply::err("ERR STORE and STOREDIST may each be given only once in Ferrite")
        );
    }
}

#[test]
fn stores_are_atomic_under_concurrent_writers() {
    let s = Server::start(4);
    let (src, dst) = (SPREAD_KEYS[0], SPREAD_KEYS[1]);
    let mut c = s.client();
    c.setup(&format!("GEOADD {src} 10 10 p0 10.001 10 p1"));
    // One connection keeps rewriting both members; another stores searches: every stored
    // set must hold a state the writer produced (both members, never one).
    let writer = {
        let mut w = s.client();
        let src = src.to_string();
        std::thread::spawn(move || {
            for i in 0..300 {
                let lon = if i % 2 == 0 { "10" } else { "10.0005" };
                let r = w.cmd(&["GEOADD", &src, lon, "10", "p0", lon, "10", "p1"]);
                assert!(!r.is_error(), "{r:?}");
            }
        })
    };
    for _ in 0..300 {
        let n = c
            .cmd(&[
                "GEOSEARCHSTORE",
                dst,
                src,
                "FROMLONLAT",
                "10",
                "10",
                "BYRADIUS",
                "1",
                "km",
            ])
            .as_int();
        assert_eq!(n, 2);
        assert_eq!(c.cmd(&["ZCARD", dst]), Reply::int(2));
    }
    writer.join().expect("writer thread");
}

#[test]
fn geo_sets_are_sorted_sets() {
    let s = Server::start(4);
    let mut c = s.client();
    sicily(&mut c, "Sicily");
    let dump = c.cmd(&["DUMP", "Sicily"]);
    let Reply::Bulk(bytes) = dump else {
        panic!("DUMP: {dump:?}")
    };
    let restored = c.cmd(&[b"RESTORE".to_vec(), b"copy".to_vec(), b"0".to_vec(), bytes]);
    assert_eq!(restored, Reply::ok());
    check!(c, "GEOPOS copy Palermo", Reply::arr(vec![xy(PALERMO_XY)]));
    check!(c, "ZREM copy Palermo", Reply::int(1));
    check!(c, "GEORADIUS copy 15 37 200 km", Reply::bulks(&["Catania"]));
    check!(c, &format!("ZADD copy {PALERMO} Palermo"), Reply::int(1));
    check!(
        c,
        "GEODIST copy Palermo Catania",
        Reply::bulk("166274.1516")
    );
    check!(c, "OBJECT ENCODING copy", Reply::bulk("listpack"));
    // Past 128 members the set becomes a skiplist; searches read it the same way.
    let mut args = vec!["GEOADD".to_string(), "big".to_string()];
    for i in 0..200 {
        args.push(format!("{}", 13.0 + (i % 20) as f64 * 0.1));
        args.push(format!("{}", 37.0 + (i / 20) as f64 * 0.1));
        args.push(format!("m{i}"));
    }
    assert_eq!(c.cmd(&args), Reply::int(200));
    check!(c, "OBJECT ENCODING big", Reply::bulk("skiplist"));
    let near = c.line("GEOSEARCH big FROMLONLAT 13.5 37.5 BYRADIUS 12 km ASC COUNT 3");
    assert_eq!(near, Reply::bulks(&["m105", "m104", "m106"]));
    check!(
        c,
        "GEOSEARCHSTORE bigcopy big FROMLONLAT 13.5 37.5 BYBOX 1000 1000 km",
        Reply::int(200)
    );
    check!(c, "OBJECT ENCODING bigcopy", Reply::bulk("skiplist"));
    check!(
        c,
        "GEOSEARCHSTORE small big FROMLONLAT 13.5 37.5 BYBOX 1000 1000 km COUNT 10",
        Reply::int(10)
    );
    check!(c, "OBJECT ENCODING small", Reply::bulk("listpack"));
}

#[test]
fn resp3_reply_shapes() {
    let s = Server::start(4);
    let mut c = s.client();
    assert!(!c.cmd(&["HELLO", "3"]).is_error());
    sicily(&mut c, "Sicily");
    let raw = |c: &mut Client, line: &str| String::from_utf8(c.cmd_raw(&split_line(line))).unwrap();
    assert_eq!(
        raw(&mut c, "GEOPOS Sicily Palermo nosuch"),
        "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"
    );
    assert_eq!(
        raw(&mut c, "GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH"),
        "*2\r\n*4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n\
         *4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n"
    );
    assert_eq!(
        raw(&mut c, "GEODIST Sicily Palermo Catania"),
        "$11\r\n166274.1516\r\n"
    );
    assert_eq!(raw(&mut c, "GEODIST Sicily Palermo nosuch"), "_\r\n");
    assert_eq!(raw(&mut c, "GEODIST nokey a b"), "_\r\n");
    assert_eq!(
        raw(&mut c, "GEOHASH Sicily Palermo nosuch"),
        "*2\r\n$11\r\nsqc8b49rny0\r\n_\r\n"
    );
    assert_eq!(
        raw(&mut c, "GEOSEARCH nokey FROMMEMBER a BYRADIUS 1 m"),
        "*0\r\n"
    );
    // RESP2, for comparison.
    let mut c2 = s.client();
    assert_eq!(
        raw(&mut c2, "GEOPOS Sicily Palermo nosuch"),
        "*2\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*-1\r\n"
    );
    assert_eq!(raw(&mut c2, "GEODIST nokey a b"), "$-1\r\n");
}

#[test]
fn command_table_entries() {
    let s = Server::start(4);
    let mut c = s.client();
    let info = c.line("COMMAND INFO geoadd geosearchstore georadius_ro geosearch");
    let items = info.items();
    assert_eq!(items.len(), 4);
    let flags = |r: &Reply| r.items()[2].strings();
    assert_eq!(items[0].items()[1], Reply::int(-5));
    assert!(flags(&items[0]).contains(&"write".to_string()));
    assert!(flags(&items[0]).contains(&"denyoom".to_string()));
    assert_eq!(items[1].items()[1], Reply::int(-8));
    assert_eq!(items[1].items()[3], Reply::int(1));
    assert_eq!(items[1].items()[4], Reply::int(2));
    assert!(flags(&items[2]).contains(&"readonly".to_string()));
    assert_eq!(items[3].items()[1], Reply::int(-7));
    let cats = items[3].items()[6].strings();
    assert!(cats.contains(&"@geo".to_string()), "{cats:?}");
    assert!(cats.contains(&"@read".to_string()), "{cats:?}");
    // Inside MULTI too.
    check!(c, "MULTI", Reply::ok());
    check!(c, "GEOADD m 1 1 a", Reply::status("QUEUED"));
    check!(c, "GEOPOS m a", Reply::status("QUEUED"));
    let exec = c.line("EXEC");
    assert_eq!(exec.items()[0], Reply::int(1));
    assert_eq!(
        exec.items()[1],
        Reply::arr(vec![xy(["0.99999994039535522", "0.99999945914297683"])])
    );
}

// ---- differential run against redis-server ---------------------------------------------------

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (self.next() >> 11) as f64 / (1u64 << 53) as f64 * (hi - lo)
    }
}

/// The command lines of the differential run.
fn differential_lines() -> Vec<String> {
    let mut rng = Rng(0x6765_6f20_7465_7374);
    let mut lines: Vec<String> = vec![
        "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania".into(),
        "GEOADD Sicily 12.758489 38.788135 edge1 17.241510 38.788135 edge2".into(),
        "ZRANGE Sicily 0 -1 WITHSCORES".into(),
        "GEOPOS Sicily Palermo Catania edge1 edge2 nosuch".into(),
        "GEOHASH Sicily Palermo Catania edge1 edge2 nosuch".into(),
        "GEODIST Sicily Palermo Catania".into(),
        "GEODIST Sicily edge1 edge2 mi".into(),
        "GEOADD Sicily CH XX 13.361389 38.115556 Palermo 1 1 x".into(),
        "GEOADD Sicily NX XX 1 1 x".into(),
        "GEOADD Sicily 181 1 x".into(),
        "GEOADD Sicily 1 -85.06 x".into(),
        "GEOADD Sicily 1 1e400 x".into(),
        "GEOADD Sicily 1 1e-400 x".into(),
        "GEOADD Sicily 0x10 1 x".into(),
    ];
    // Points: clustered around a few centres, spread over the globe, duplicates, the limits.
    let centres = [
        (15.0, 37.0),
        (-73.98, 40.75),
        (139.69, 35.69),
        (0.0, 0.0),
        (179.9, -84.9),
    ];
    let mut members = Vec::new();
    let mut add = vec!["GEOADD pts".to_string()];
    for i in 0..400 {
        let (lon, lat) = match i % 5 {
            0..=2 => {
                let (x, y) = centres[i % centres.len()];
                let x: f64 = x + rng.range(-2.0, 2.0);
                (
                    x.clamp(-180.0, 180.0),
                    (y + rng.range(-2.0, 2.0)).clamp(-85.05, 85.05),
                )
            }
            3 => (
                rng.range(-180.0, 180.0),
                rng.range(-85.05112878, 85.05112878),
            ),
            _ => (15.5, 37.25), // many members at one position: ties
        };
        let m = format!("p{i}");
        add.push(format!("{lon:.6} {lat:.6} {m}"));
        members.push(m);
        if add.len() > 40 {
            lines.push(add.join(" "));
            add = vec!["GEOADD pts".to_string()];
        }
    }
    add.push("180 85.05112878 ne -180 -85.05112878 sw 0 0 origin".into());
    lines.push(add.join(" "));
    lines.push("ZRANGE pts 0 -1 WITHSCORES".into());
    for chunk in members.chunks(50) {
        lines.push(format!("GEOPOS pts {} ne sw origin", chunk.join(" ")));
        lines.push(format!("GEOHASH pts {} ne sw origin", chunk.join(" ")));
    }
    for i in (0..members.len()).step_by(37) {
        for unit in ["m", "km", "ft", "mi"] {
            lines.push(format!(
                "GEODIST pts {} {} {unit}",
                members[i],
                members[(i * 7 + 3) % members.len()]
            ));
        }
    }
    // Searches: every option combination over a set of shapes.
    let withs = [
        "",
        " WITHDIST",
        " WITHHASH",
        " WITHCOORD",
        " WITHDIST WITHHASH WITHCOORD",
        " WITHCOORD WITHDIST",
    ];
    let orders = ["", " ASC", " DESC"];
    let counts = ["", " COUNT 1", " COUNT 7", " COUNT 7 ANY", " COUNT 1000"];
    let shapes = [
        "FROMLONLAT 15 37 BYRADIUS 250 km",
        "FROMLONLAT 15.5 37.25 BYRADIUS 0 m",
        "FROMLONLAT -73.98 40.75 BYBOX 300 150 km",
        "FROMLONLAT 139 35 BYRADIUS 150 mi",
        "FROMLONLAT 0 0 BYBOX 500000 800000 ft",
        "FROMLONLAT 179.5 -84 BYRADIUS 300 km",
        "FROMLONLAT -179.9 84 BYBOX 2000 2000 km",
        "FROMLONLAT 10 10 BYRADIUS 6000 km",
        "FROMLONLAT 0 0 BYRADIUS 20000 km",
        "FROMMEMBER p0 BYRADIUS 100 km",
        "FROMMEMBER p4 BYBOX 100 100 km",
        "FROMMEMBER origin BYRADIUS 1 m",
    ];
    for shape in shapes {
        for w in withs {
            for o in orders {
                for n in counts {
                    lines.push(format!("GEOSEARCH pts {shape}{w}{o}{n}"));
                }
            }
        }
    }
    // The GEORADIUS forms and the stores, on a subset.
    for (i, o) in [
        "",
        " ASC",
        " DESC",
        " COUNT 5",
        " COUNT 5 ANY",
        " WITHDIST COUNT 3 DESC",
    ]
    .iter()
    .enumerate()
    {
        lines.push(format!("GEORADIUS pts 15 37 200 km{o}"));
        lines.push(format!("GEORADIUS_RO pts -74 40.7 100 mi{o}"));
        lines.push(format!("GEORADIUSBYMEMBER pts p{} 300 km{o}", i * 5));
        lines.push(format!(
            "GEORADIUSBYMEMBER_RO pts p{} 1000 km{o}",
            i * 5 + 1
        ));
        if !o.contains("WITH") {
            lines.push(format!("GEORADIUS pts 15 37 200 km{o} STORE st{i}"));
            lines.push(format!("ZRANGE st{i} 0 -1 WITHSCORES"));
            lines.push(format!(
                "GEOSEARCHSTORE sst{i} pts FROMLONLAT 15 37 BYBOX 300 300 km{o}"
            ));
            lines.push(format!("ZRANGE sst{i} 0 -1 WITHSCORES"));
            lines.push(format!(
                "GEOSEARCHSTORE sst{i} pts FROMLONLAT 15 37 BYBOX 300 300 km{o} STOREDIST"
            ));
            lines.push(format!("ZRANGE sst{i} 0 -1"));
            lines.push(format!("ZCOUNT sst{i} 0 100"));
        }
    }
    // Mixed use: a plain sorted set read as a geo set.
    lines.push(
        "ZADD mixed 0 zero -1 neg 1.5 frac 4503599627370496 top 9007199254740992 over 1e300 huge"
            .into(),
    );
    lines.push("GEOPOS mixed zero neg frac top over huge".into());
    lines.push("GEOHASH mixed zero neg frac top over huge".into());
    lines.push("GEODIST mixed zero frac km".into());
    lines.push("GEOSEARCH mixed FROMLONLAT -180 -85 BYRADIUS 500 km WITHHASH WITHCOORD".into());
    lines.push("GEOSEARCH mixed FROMMEMBER neg BYRADIUS 500 km WITHHASH WITHCOORD".into());
    lines
}

/// Runs `lines` on a fresh Ferrite and a fresh redis-server in the given protocol.
fn differences(lines: &[String], resp3: bool) -> (Vec<String>, usize) {
    let ferrite = Server::start(4);
    let redis = Server::start_redis();
    let mut f = ferrite.client();
    let mut r = redis.client();
    if resp3 {
        for c in [&mut f, &mut r] {
            assert!(!c.cmd(&["HELLO", "3"]).is_error());
        }
    }
    let mut diffs = Vec::new();
    let mut found = 0;
    for line in lines {
        let args = split_line(line);
        let a = f.cmd_raw(&args);
        let b = r.cmd_raw(&args);
        assert_eq!(frame_end(&a, 0), Some(a.len()), "{line}: one whole reply");
        if line.starts_with("GEOSEARCH pts") && common::parse_reply(&a, 0).0.items().len() >= 2 {
            found += 1;
        }
        // Redis 7.0 prints STOREDIST scores with %.17g, Ferrite with the shortest text: compare
        // those as numbers.
        let same = a == b
            || (line.starts_with("ZRANGE sst")
                && line.ends_with("WITHSCORES")
                && same_numbers(&a, &b));
        if !same {
            diffs.push(format!(
                "{line}\n    ferrite: {:?}\n    redis:   {:?}",
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b)
            ));
        }
    }
    (diffs, found)
}

fn same_numbers(a: &[u8], b: &[u8]) -> bool {
    let (ra, rb) = (common::parse_reply(a, 0).0, common::parse_reply(b, 0).0);
    let (sa, sb) = (ra.strings(), rb.strings());
    sa.len() == sb.len()
        && sa.iter().zip(&sb).all(|(x, y)| {
            x == y || matches!((x.parse::<f64>(), y.parse::<f64>()), (Ok(p), Ok(q)) if p == q)
        })
}

#[test]
fn matches_redis_server_in_resp2_and_resp3() {
    let lines = differential_lines();
    assert!(lines.len() > 1000, "{}", lines.len());
    for resp3 in [false, true] {
        let (diffs, found) = differences(&lines, resp3);
        // Most searches find several members, so the comparison is about something.
        assert!(
            found > 400,
            "only {found} searches found two members or more"
        );
        assert!(
            diffs.is_empty(),
            "resp3={resp3}: {} of {} commands differ from redis-server:\n{}",
            diffs.len(),
            lines.len(),
            diffs
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
