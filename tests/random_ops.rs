//! Random operation sequences, family by family, run on `ferrite --shards 4` and on Debian's
//! redis-server 7.0 side by side: Redis is the model, and every reply must be equal (replies of
//! unspecified order compared sorted). Keys come from a small pool spread over every shard, and
//! values from a small pool, so commands collide: types clash (WRONGTYPE), collections empty
//! out and are deleted, multi-key commands cross shards.
//!
//! Each sequence is seeded; a failure names the family, the seed and the command, so it replays.

mod common;

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use common::{frame_end, Client, Server, SPREAD_KEYS};

const VALUES: &[&str] = &["x", "y", "z", "1", "2", "10", "-3", "abc", "1.5"];
const STEPS: usize = 400;
const SEEDS: u64 = 4;

struct Gen {
    rng: SmallRng,
}

impl Gen {
    fn key(&mut self) -> String {
        SPREAD_KEYS
            .choose(&mut self.rng)
            .map_or("a", |k| k)
            .to_string()
    }
    fn value(&mut self) -> String {
        VALUES.choose(&mut self.rng).map_or("x", |v| v).to_string()
    }
    fn int(&mut self, lo: i64, hi: i64) -> String {
        self.rng.gen_range(lo..=hi).to_string()
    }
    fn values(&mut self, max: usize) -> Vec<String> {
        let n = self.rng.gen_range(1..=max);
        (0..n).map(|_| self.value()).collect()
    }
    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options.choose(&mut self.rng).copied().unwrap_or("")
    }
}

/// One random command of a family, as arguments.
type Family = fn(&mut Gen) -> Vec<String>;

fn strings(g: &mut Gen) -> Vec<String> {
    let k = g.key();
    let line = match g.rng.gen_range(0..12) {
        0 => format!("SET {k} {}", g.value()),
        1 => format!("GET {k}"),
        2 => format!("INCRBY {k} {}", g.int(-5, 5)),
        3 => format!("APPEND {k} {}", g.value()),
        4 => format!("GETRANGE {k} {} {}", g.int(-3, 3), g.int(-3, 5)),
        5 => format!("SETRANGE {k} {} {}", g.int(0, 4), g.value()),
        6 => format!("MSET {k} {} {} {}", g.value(), g.key(), g.value()),
        7 => format!("MGET {k} {} {}", g.key(), g.key()),
        8 => format!("STRLEN {k}"),
        9 => format!("SET {k} {} {}", g.value(), g.pick(&["NX", "XX", "GET"])),
        10 => format!("INCRBYFLOAT {k} {}", g.pick(&["1.5", "-2", "0.1"])),
        _ => format!("GETDEL {k}"),
    };
    line.split(' ').map(String::from).collect()
}

fn lists(g: &mut Gen) -> Vec<String> {
    let k = g.key();
    let line = match g.rng.gen_range(0..14) {
        0 | 1 => format!("LPUSH {k} {}", g.values(3).join(" ")),
        2 | 3 => format!("RPUSH {k} {}", g.values(3).join(" ")),
        4 => format!("LPOP {k} {}", g.int(0, 3)),
        5 => format!("RPOP {k}"),
        6 => format!("LRANGE {k} {} {}", g.int(-4, 2), g.int(-2, 6)),
        7 => format!(
            "LINSERT {k} {} {} {}",
            g.pick(&["BEFORE", "AFTER"]),
            g.value(),
            g.value()
        ),
        8 => format!("LREM {k} {} {}", g.int(-2, 2), g.value()),
        9 => format!("LTRIM {k} {} {}", g.int(-3, 2), g.int(-2, 5)),
        10 => format!(
            "LMOVE {k} {} {} {}",
            g.key(),
            g.pick(&["LEFT", "RIGHT"]),
            g.pick(&["LEFT", "RIGHT"])
        ),
        11 => format!("LPOS {k} {} RANK {}", g.value(), g.pick(&["1", "-1", "2"])),
        12 => format!(
            "LMPOP 2 {k} {} {} COUNT {}",
            g.key(),
            g.pick(&["LEFT", "RIGHT"]),
            g.int(1, 3)
        ),
        _ => format!("LSET {k} {} {}", g.int(-2, 2), g.value()),
    };
    line.split(' ').map(String::from).collect()
}

fn hashes(g: &mut Gen) -> Vec<String> {
    let k = g.key();
    let line = match g.rng.gen_range(0..10) {
        0..=2 => format!(
            "HSET {k} {} {} {} {}",
            g.value(),
            g.value(),
            g.value(),
            g.value()
        ),
        3 => format!("HDEL {k} {} {}", g.value(), g.value()),
        4 => format!("HGET {k} {}", g.value()),
        5 => format!("HMGET {k} {} {}", g.value(), g.value()),
        6 => format!("HINCRBY {k} {} {}", g.value(), g.int(-3, 3)),
        7 => format!("HSETNX {k} {} {}", g.value(), g.value()),
        8 => format!("HLEN {k}"),
        _ => format!("HGETALL {k}"),
    };
    line.split(' ').map(String::from).collect()
}

fn sets(g: &mut Gen) -> Vec<String> {
    let k = g.key();
    let line = match g.rng.gen_range(0..11) {
        0..=2 => format!("SADD {k} {}", g.values(4).join(" ")),
        3 => format!("SREM {k} {} {}", g.value(), g.value()),
        4 => format!("SISMEMBER {k} {}", g.value()),
        5 => format!("SCARD {k}"),
        6 => format!("SMOVE {k} {} {}", g.key(), g.value()),
        7 => format!("SINTERCARD 2 {k} {}", g.key()),
        8 => format!("SMEMBERS {k}"),
        9 => format!(
            "{} {} {k} {}",
            g.pick(&["SUNIONSTORE", "SINTERSTORE", "SDIFFSTORE"]),
            g.key(),
            g.key()
        ),
        _ => format!("SUNION {k} {}", g.key()),
    };
    line.split(' ').map(String::from).collect()
}

fn zsets(g: &mut Gen) -> Vec<String> {
    let k = g.key();
    let line = match g.rng.gen_range(0..12) {
        0..=2 => format!(
            "ZADD {k} {} {} {} {}",
            g.int(-2, 4),
            g.value(),
            g.int(-2, 4),
            g.value()
        ),
        3 => format!(
            "ZADD {k} {} {} {}",
            g.pick(&["NX", "XX", "GT", "LT", "CH", "GT CH"]),
            g.int(-2, 4),
            g.value()
        ),
        4 => format!("ZINCRBY {k} {} {}", g.pick(&["1", "-1", "0.5"]), g.value()),
        5 => format!("ZREM {k} {} {}", g.value(), g.value()),
        6 => format!("ZRANGE {k} 0 -1 WITHSCORES"),
        7 => format!(
            "ZRANGEBYSCORE {k} {} {} WITHSCORES",
            g.pick(&["-inf", "0", "(1"]),
            g.pick(&["+inf", "2", "(3"])
        ),
        8 => format!("ZRANK {k} {}", g.value()),
        9 => format!("ZPOPMIN {k} {}", g.int(1, 2)),
        10 => format!("ZUNIONSTORE {} 2 {k} {} WEIGHTS 1 2", g.key(), g.key()),
        _ => format!("ZCOUNT {k} {} {}", g.int(-2, 2), g.int(0, 4)),
    };
    line.split(' ').map(String::from).collect()
}

/// Commands of any family plus the generic key commands, so types meet.
fn mixed(g: &mut Gen) -> Vec<String> {
    let family: Family = match g.rng.gen_range(0..7) {
        0 => strings,
        1 => lists,
        2 => hashes,
        3 => sets,
        4 => zsets,
        _ => |g: &mut Gen| {
            let k = g.key();
            let line = match g.rng.gen_range(0..6) {
                0 => format!("DEL {k} {}", g.key()),
                1 => format!("EXISTS {k} {}", g.key()),
                2 => format!("TYPE {k}"),
                3 => format!("RENAME {k} {}", g.key()),
                4 => format!("COPY {k} {} REPLACE", g.key()),
                _ => format!("BLPOP {k} {} 0.001", g.key()),
            };
            line.split(' ').map(String::from).collect()
        },
    };
    family(g)
}

/// Replies whose element order Redis leaves unspecified.
fn unordered(args: &[String]) -> bool {
    matches!(
        args[0].as_str(),
        "SMEMBERS" | "SUNION" | "HGETALL" | "HKEYS" | "HVALS"
    )
}

/// An array reply's elements, sorted (HGETALL's as field/value pairs).
fn normalized(raw: &[u8], pairs: bool) -> Vec<Vec<u8>> {
    if raw.first() != Some(&b'*') {
        return vec![raw.to_vec()];
    }
    let mut pos = raw
        .windows(2)
        .position(|w| w == b"\r\n")
        .map_or(raw.len(), |p| p + 2);
    let mut items = Vec::new();
    while pos < raw.len() {
        let Some(end) = frame_end(raw, pos) else {
            break;
        };
        items.push(raw[pos..end].to_vec());
        pos = end;
    }
    if pairs {
        items = items.chunks(2).map(|c| c.concat()).collect();
    }
    items.sort();
    items
}

fn run(name: &str, family: Family) {
    let ferrite = Server::start(4);
    let redis = Server::start_redis();
    let (mut f, mut r): (Client, Client) = (ferrite.client(), redis.client());
    for seed in 0..SEEDS {
        f.cmd(&["FLUSHALL"]);
        r.cmd(&["FLUSHALL"]);
        let mut g = Gen {
            rng: SmallRng::seed_from_u64(seed),
        };
        for step in 0..STEPS {
            let args = family(&mut g);
            let (a, b) = (f.cmd_raw(&args), r.cmd_raw(&args));
            let same = if unordered(&args) {
                normalized(&a, args[0] == "HGETALL") == normalized(&b, args[0] == "HGETALL")
            } else {
                a == b
            };
            assert!(
                same,
                "{name}, seed {seed}, step {step}: {}\n  ferrite: {:?}\n  redis:   {:?}",
                args.join(" "),
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b)
            );
        }
    }
}

#[test]
fn strings_match_redis() {
    run("strings", strings);
}

#[test]
fn lists_match_redis() {
    run("lists", lists);
}

#[test]
fn hashes_match_redis() {
    run("hashes", hashes);
}

#[test]
fn sets_match_redis() {
    run("sets", sets);
}

#[test]
fn sorted_sets_match_redis() {
    run("sorted sets", zsets);
}

#[test]
fn mixed_types_and_key_commands_match_redis() {
    run("mixed", mixed);
}
