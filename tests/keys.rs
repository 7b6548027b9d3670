//! Generic key commands against the real `ferrite` binary: existence, deletion, renaming,
//! copying, the keyspace walks (KEYS, SCAN, RANDOMKEY) over several shards, TTLs and expiry.

#[macro_use]
mod common;

use common::{Client, Reply, Server, SPREAD_KEYS};
use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const NOT_INT: &str = "ERR value is not an integer or out of range";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn sorted(r: &Reply) -> Vec<String> {
    let mut v = r.strings();
    v.sort();
    v
}

#[test]
fn del_unlink_exists_type_touch() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "MSET a 1 b 2 c 3 d 4 e 5", Reply::ok());
    check!(c, "EXISTS a b c d e nosuch", Reply::int(5));
    // EXISTS counts a key each time it is named.
    check!(c, "EXISTS a a b", Reply::int(3));
    check!(c, "DEL a b nosuch", Reply::int(2));
    check!(c, "DEL a", Reply::int(0));
    // DEL counts a key once even if named twice.
    check!(c, "DEL c c", Reply::int(1));
    check!(c, "UNLINK d e nosuch", Reply::int(2));
    check!(c, "EXISTS a b c d e", Reply::int(0));
    check!(c, "SET f v", Reply::ok());
    check!(c, "TYPE f", Reply::status("string"));
    check!(c, "TYPE nosuch", Reply::status("none"));
    check!(c, "SET g v", Reply::ok());
    check!(c, "TOUCH f g h nosuch", Reply::int(2));
    for cmd in ["del", "unlink", "exists", "touch"] {
        check!(
            c,
            cmd,
            Reply::err(&format!(
                "ERR wrong number of arguments for '{cmd}' command"
            ))
        );
    }
    check!(
        c,
        "TYPE",
        Reply::err("ERR wrong number of arguments for 'type' command")
    );
}

#[test]
fn rename_and_renamenx() {
    let s = Server::start(4);
    let mut c = s.client();
    // a and b are on different shards; c and d too.
    check!(c, "SET a 1", Reply::ok());
    check!(c, "RENAME a b", Reply::ok());
    check!(
        c,
        "MGET a b",
        Reply::arr(vec![Reply::nil(), Reply::bulk("1")])
    );
    check!(c, "RENAME nosuch x", Reply::err("ERR no such key"));
    check!(c, "RENAMENX nosuch x", Reply::err("ERR no such key"));
    check!(c, "RENAME b b", Reply::ok());
    check!(c, "GET b", Reply::bulk("1"));
    // RENAME overwrites the destination and carries the TTL over.
    check!(c, "SET c 3 EX 1000", Reply::ok());
    check!(c, "SET d 4", Reply::ok());
    check!(c, "RENAME c d", Reply::ok());
    check!(c, "GET d", Reply::bulk("3"));
    common::assert_ttl(&mut c, "d", 1000);
    check!(c, "EXISTS c", Reply::int(0));
    // ...and a destination's TTL does not survive.
    check!(c, "SET e 5", Reply::ok());
    check!(c, "RENAME e d", Reply::ok());
    check!(c, "TTL d", Reply::int(-1));
    // RENAMENX
    check!(c, "RENAMENX d b", Reply::int(0));
    check!(c, "MGET d b", Reply::bulks(&["5", "1"]));
    check!(c, "RENAMENX d f", Reply::int(1));
    check!(
        c,
        "MGET d f",
        Reply::arr(vec![Reply::nil(), Reply::bulk("5")])
    );
    check!(c, "RENAMENX f f", Reply::int(0));
    check!(
        c,
        "RENAME a",
        Reply::err("ERR wrong number of arguments for 'rename' command")
    );
    // Renames in other databases stay there.
    check!(c, "SELECT 5", Reply::ok());
    check!(c, "SET g x", Reply::ok());
    check!(c, "RENAME g h", Reply::ok());
    check!(c, "GET h", Reply::bulk("x"));
    check!(c, "SELECT 0", Reply::ok());
    check!(c, "EXISTS g h", Reply::int(0));
}

#[test]
fn copy_and_move() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "SET a 1 EX 1000", Reply::ok());
    // a -> b crosses shards.
    check!(c, "COPY a b", Reply::int(1));
    check!(c, "MGET a b", Reply::bulks(&["1", "1"]));
    common::assert_ttl(&mut c, "b", 1000);
    check!(c, "SET a 2", Reply::ok());
    check!(c, "COPY a b", Reply::int(0));
    check!(c, "GET b", Reply::bulk("1"));
    check!(c, "COPY a b REPLACE", Reply::int(1));
    check!(c, "GET b", Reply::bulk("2"));
    check!(c, "TTL b", Reply::int(-1));
    check!(c, "COPY nosuch b", Reply::int(0));
    check!(
        c,
        "COPY a a",
        Reply::err("ERR source and destination objects are the same")
    );
    check!(c, "COPY a x FOO", Reply::err("ERR syntax error"));
    check!(c, "COPY a x DB", Reply::err("ERR syntax error"));
    check!(
        c,
        "COPY a x DB 16",
        Reply::err("ERR DB index is out of range")
    );
    check!(
        c,
        "COPY a x DB -1",
        Reply::err("ERR DB index is out of range")
    );
    check!(c, "COPY a x DB abc", Reply::err(NOT_INT));
    // COPY ... DB with source and destination on the same shard (a and e share one).
    check!(c, "COPY a e DB 1", Reply::int(1));
    check!(c, "COPY a a DB 1", Reply::int(1));
    check!(c, "EXISTS e", Reply::int(0));
    check!(c, "SELECT 1", Reply::ok());
    check!(c, "MGET a e", Reply::bulks(&["2", "2"]));
    check!(c, "SET a other", Reply::ok());
    check!(c, "SELECT 0", Reply::ok());
    check!(c, "COPY a a DB 1", Reply::int(0));
    check!(c, "COPY a a DB 1 REPLACE", Reply::int(1));
    check!(c, "SELECT 1", Reply::ok());
    check!(c, "GET a", Reply::bulk("2"));
    check!(c, "FLUSHDB", Reply::ok());
    check!(c, "SELECT 0", Reply::ok());
    // MOVE
    check!(c, "SET m v EX 1000", Reply::ok());
    check!(c, "MOVE m 2", Reply::int(1));
    check!(c, "EXISTS m", Reply::int(0));
    check!(c, "MOVE m 2", Reply::int(0));
    check!(c, "SELECT 2", Reply::ok());
    check!(c, "GET m", Reply::bulk("v"));
    common::assert_ttl(&mut c, "m", 1000);
    // MOVE does not overwrite.
    check!(c, "SELECT 0", Reply::ok());
    check!(c, "SET m w", Reply::ok());
    check!(c, "MOVE m 2", Reply::int(0));
    check!(c, "GET m", Reply::bulk("w"));
    check!(
        c,
        "MOVE m 0",
        Reply::err("ERR source and destination objects are the same")
    );
    check!(c, "MOVE m 16", Reply::err("ERR DB index is out of range"));
    check!(c, "MOVE m x", Reply::err(NOT_INT));
    check!(c, "MOVE nosuch 1", Reply::int(0));
}

#[test]
fn randomkey_and_keys() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "RANDOMKEY", Reply::nil());
    check!(c, "KEYS *", Reply::arr(vec![]));
    check!(
        c,
        "MSET a 1 b 2 c 3 d 4 k1 x k2 x k3 x k10 x \"a*\" x",
        Reply::ok()
    );
    let all: BTreeSet<String> = ["a", "b", "c", "d", "k1", "k2", "k3", "k10", "a*"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for _ in 0..20 {
        let k = c.line("RANDOMKEY").text();
        assert!(all.contains(&k), "RANDOMKEY gave {k}");
    }
    assert_eq!(
        sorted(&c.line("KEYS *")),
        all.iter().cloned().collect::<Vec<_>>()
    );
    assert_eq!(sorted(&c.line("KEYS k?")), ["k1", "k2", "k3"]);
    assert_eq!(sorted(&c.line("KEYS k[12]*")), ["k1", "k10", "k2"]);
    assert_eq!(sorted(&c.line("KEYS k[^1]")), ["k2", "k3"]);
    assert_eq!(sorted(&c.line("KEYS a\\*")), ["a*"]);
    assert_eq!(sorted(&c.line("KEYS a*")), ["a", "a*"]);
    assert_eq!(sorted(&c.line("KEYS nomatch*")), Vec::<String>::new());
    // Other databases are separate.
    check!(c, "SELECT 3", Reply::ok());
    check!(c, "KEYS *", Reply::arr(vec![]));
    check!(c, "RANDOMKEY", Reply::nil());
    check!(
        c,
        "RANDOMKEY x",
        Reply::err("ERR wrong number of arguments for 'randomkey' command")
    );
}

/// Walks SCAN to the end (bounded) and returns every key it gave, in the order given.
fn full_scan(c: &mut Client, opts: &str) -> Vec<String> {
    let mut cursor = "0".to_string();
    let mut keys = Vec::new();
    for _ in 0..200_000 {
        let r = c.line(&format!("SCAN {cursor} {opts}"));
        let items = r.items();
        assert_eq!(items.len(), 2, "{r:?}");
        cursor = items[0].text();
        keys.extend(items[1].strings());
        if cursor == "0" {
            return keys;
        }
    }
    panic!("SCAN did not finish");
}

#[test]
fn scan_visits_every_key_once() {
    let s = Server::start(4);
    let mut c = s.client();
    let mut args = vec!["MSET".to_string()];
    for i in 0..1000 {
        args.push(format!("key:{i}"));
        args.push(i.to_string());
    }
    assert_eq!(c.cmd(&args), Reply::ok());
    let mut keys = c.line("KEYS *").strings();
    keys.sort();
    assert_eq!(keys.len(), 1000);
    for opts in ["", "COUNT 1", "COUNT 7", "COUNT 100", "COUNT 100000"] {
        let mut scanned = full_scan(&mut c, opts);
        scanned.sort();
        assert_eq!(scanned, keys, "SCAN {opts}");
    }
    // MATCH filters; TYPE filters.
    let mut m = full_scan(&mut c, "MATCH key:1?? COUNT 50");
    m.sort();
    let mut want: Vec<String> = (100..200).map(|i| format!("key:{i}")).collect();
    want.sort();
    assert_eq!(m, want);
    let mut t = full_scan(&mut c, "TYPE string COUNT 50");
    t.sort();
    assert_eq!(t, keys);
    assert!(full_scan(&mut c, "TYPE list").is_empty());
    assert!(full_scan(&mut c, "MATCH nomatch*").is_empty());
    // Another database is scanned on its own.
    check!(c, "SELECT 1", Reply::ok());
    check!(c, "MSET a 1 b 2 c 3 d 4", Reply::ok());
    let mut other = full_scan(&mut c, "COUNT 2");
    other.sort();
    assert_eq!(other, ["a", "b", "c", "d"]);
    // Errors.
    check!(c, "SCAN abc", Reply::err("ERR invalid cursor"));
    check!(c, "SCAN 0 COUNT 0", Reply::err("ERR syntax error"));
    check!(c, "SCAN 0 COUNT abc", Reply::err(NOT_INT));
    check!(c, "SCAN 0 MATCH", Reply::err("ERR syntax error"));
    check!(c, "SCAN 0 FOO bar", Reply::err("ERR syntax error"));
    check!(
        c,
        "SCAN",
        Reply::err("ERR wrong number of arguments for 'scan' command")
    );
}

#[test]
fn scan_keeps_stable_keys_under_churn() {
    let s = Server::start(4);
    let mut c = s.client();
    let mut writer = s.client();
    let mut args = vec!["MSET".to_string()];
    for i in 0..300 {
        args.push(format!("stable:{i}"));
        args.push("v".into());
    }
    assert_eq!(c.cmd(&args), Reply::ok());
    let mut cursor = "0".to_string();
    let mut seen = BTreeSet::new();
    for round in 0..100_000 {
        // Keys come and go between calls; the stable ones must all be returned.
        writer.cmd(&["SET", &format!("tmp:{round}"), "v"]);
        writer.cmd(&["DEL", &format!("tmp:{}", round / 2)]);
        let r = c.cmd(&["SCAN", &cursor, "COUNT", "5"]);
        cursor = r.items()[0].text();
        seen.extend(r.items()[1].strings());
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(cursor, "0", "SCAN did not finish");
    for i in 0..300 {
        assert!(seen.contains(&format!("stable:{i}")), "stable:{i} missed");
    }
}

#[test]
fn expire_family_and_options() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "MSET a v b v c v", Reply::ok());
    check!(c, "EXPIRE a 100", Reply::int(1));
    common::assert_ttl(&mut c, "a", 100);
    check!(c, "EXPIRE a 100 NX", Reply::int(0));
    check!(c, "EXPIRE a 200 XX", Reply::int(1));
    common::assert_ttl(&mut c, "a", 200);
    check!(c, "EXPIRE a 50 GT", Reply::int(0));
    check!(c, "EXPIRE a 300 GT", Reply::int(1));
    check!(c, "EXPIRE a 400 LT", Reply::int(0));
    check!(c, "EXPIRE a 100 LT", Reply::int(1));
    common::assert_ttl(&mut c, "a", 100);
    // A key without a TTL: XX and GT refuse, NX and LT set.
    check!(c, "EXPIRE b 100 XX", Reply::int(0));
    check!(c, "EXPIRE b 100 GT", Reply::int(0));
    check!(c, "TTL b", Reply::int(-1));
    check!(c, "EXPIRE b 100 LT", Reply::int(1));
    common::assert_ttl(&mut c, "b", 100);
    check!(c, "PERSIST b", Reply::int(1));
    check!(c, "EXPIRE b 100 NX", Reply::int(1));
    check!(c, "EXPIRE b 50 XX GT", Reply::int(0));
    check!(c, "EXPIRE b 500 XX GT", Reply::int(1));
    common::assert_ttl(&mut c, "b", 500);
    check!(c, "EXPIRE b 100 nx", Reply::int(0));
    // Option errors.
    check!(
        c,
        "EXPIRE a 100 NX XX",
        Reply::err("ERR NX and XX, GT or LT options at the same time are not compatible")
    );
    check!(
        c,
        "EXPIRE a 100 NX GT",
        Reply::err("ERR NX and XX, GT or LT options at the same time are not compatible")
    );
    check!(
        c,
        "EXPIRE a 100 GT LT",
        Reply::err("ERR GT and LT options at the same time are not compatible")
    );
    check!(
        c,
        "EXPIRE a 100 FOO",
        Reply::err("ERR Unsupported option FOO")
    );
    check!(c, "EXPIRE a abc", Reply::err(NOT_INT));
    check!(c, "EXPIRE a 1.5", Reply::err(NOT_INT));
    check!(c, "EXPIRE nosuch 100", Reply::int(0));
    check!(
        c,
        "EXPIRE a 9223372036854775807",
        Reply::err("ERR invalid expire time in 'expire' command")
    );
    check!(
        c,
        "PEXPIRE a 9223372036854775807",
        Reply::err("ERR invalid expire time in 'pexpire' command")
    );
    check!(
        c,
        "EXPIREAT a 9223372036854775807",
        Reply::err("ERR invalid expire time in 'expireat' command")
    );
    check!(
        c,
        "EXPIRE a",
        Reply::err("ERR wrong number of arguments for 'expire' command")
    );
    common::assert_ttl(&mut c, "a", 100);
    // PEXPIRE, EXPIREAT, PEXPIREAT and the times they report.
    check!(c, "PEXPIRE c 100000", Reply::int(1));
    common::assert_ttl(&mut c, "c", 100);
    let pttl = c.line("PTTL c").as_int();
    assert!(pttl > 0 && pttl <= 100_000, "PTTL {pttl}");
    let at = now_ms() / 1000 + 3600;
    check!(c, &format!("EXPIREAT c {at}"), Reply::int(1));
    check!(c, "EXPIRETIME c", Reply::int(at));
    check!(c, "PEXPIRETIME c", Reply::int(at * 1000));
    check!(
        c,
        &format!("PEXPIREAT c {}", at * 1000 + 7000),
        Reply::int(1)
    );
    check!(c, "PEXPIRETIME c", Reply::int(at * 1000 + 7000));
    check!(c, "EXPIRETIME c", Reply::int(at + 7));
    check!(c, &format!("EXPIREAT c {} LT", at + 100), Reply::int(0));
    check!(c, &format!("EXPIREAT c {} GT", at + 100), Reply::int(1));
    check!(c, "EXPIRETIME c", Reply::int(at + 100));
    // PERSIST, TTL and friends on keys without TTL and missing keys.
    check!(c, "PERSIST c", Reply::int(1));
    check!(c, "PERSIST c", Reply::int(0));
    check!(c, "PERSIST nosuch", Reply::int(0));
    check!(c, "TTL c", Reply::int(-1));
    check!(c, "PTTL c", Reply::int(-1));
    check!(c, "EXPIRETIME c", Reply::int(-1));
    check!(c, "PEXPIRETIME c", Reply::int(-1));
    check!(c, "TTL nosuch", Reply::int(-2));
    check!(c, "PTTL nosuch", Reply::int(-2));
    check!(c, "EXPIRETIME nosuch", Reply::int(-2));
    check!(c, "PEXPIRETIME nosuch", Reply::int(-2));
    // A time in the past deletes the key at once.
    check!(c, "EXPIRE c 0", Reply::int(1));
    check!(c, "EXISTS c", Reply::int(0));
    check!(c, "SET d v", Reply::ok());
    check!(c, "PEXPIRE d -10", Reply::int(1));
    check!(c, "EXISTS d", Reply::int(0));
    check!(c, "SET d v", Reply::ok());
    check!(c, "EXPIREAT d 1", Reply::int(1));
    check!(c, "EXISTS d", Reply::int(0));
    check!(c, "SET d v", Reply::ok());
    check!(c, "PEXPIREAT d 0", Reply::int(1));
    check!(c, "EXISTS d", Reply::int(0));
}

#[test]
fn object_subcommands() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "SET i 12345", Reply::ok());
    check!(c, "SET e hello", Reply::ok());
    check!(
        c,
        "SET r aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        Reply::ok()
    );
    check!(
        c,
        "SET e44 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        Reply::ok()
    );
    check!(
        c,
        "SET e45 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        Reply::ok()
    );
    check!(c, "OBJECT ENCODING i", Reply::bulk("int"));
    check!(c, "OBJECT ENCODING e", Reply::bulk("embstr"));
    check!(c, "OBJECT ENCODING r", Reply::bulk("raw"));
    check!(c, "OBJECT ENCODING e44", Reply::bulk("embstr"));
    check!(c, "OBJECT ENCODING e45", Reply::bulk("raw"));
    check!(c, "OBJECT ENCODING nosuch", Reply::nil());
    check!(c, "OBJECT REFCOUNT e", Reply::int(1));
    check!(c, "OBJECT REFCOUNT nosuch", Reply::nil());
    let idle = c.line("OBJECT IDLETIME e").as_int();
    assert!((0..=100).contains(&idle), "idle {idle}");
    check!(c, "OBJECT IDLETIME nosuch", Reply::nil());
    check!(
        c,
        "OBJECT FREQ e",
        Reply::err(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
        )
    );
    check!(
        c,
        "OBJECT FOO e",
        Reply::err("ERR unknown subcommand 'FOO'. Try OBJECT HELP.")
    );
    check!(
        c,
        "OBJECT",
        Reply::err("ERR wrong number of arguments for 'object' command")
    );
    check!(
        c,
        "OBJECT ENCODING",
        Reply::err("ERR wrong number of arguments for 'object|encoding' command")
    );
    let help = c.line("OBJECT HELP");
    assert!(help.items().len() > 4, "{help:?}");
}

#[test]
fn lazy_expiry() {
    let s = Server::start(4);
    let mut c = s.client();
    for k in SPREAD_KEYS {
        check!(c, &format!("SET {k} v PX 50"), Reply::ok());
    }
    check!(c, "SET keep v", Reply::ok());
    std::thread::sleep(Duration::from_millis(200));
    for k in SPREAD_KEYS {
        check!(c, &format!("GET {k}"), Reply::nil());
        check!(c, &format!("TTL {k}"), Reply::int(-2));
    }
    check!(c, "EXISTS a b c d e f g h", Reply::int(0));
    check!(
        c,
        "MGET a keep",
        Reply::arr(vec![Reply::nil(), Reply::bulk("v")])
    );
    // An expired key is absent for every command that looks at it.
    check!(c, "SET x v PX 30", Reply::ok());
    check!(c, "SET y v PX 30", Reply::ok());
    check!(c, "SET z v PX 30", Reply::ok());
    std::thread::sleep(Duration::from_millis(150));
    check!(c, "RENAME x x2", Reply::err("ERR no such key"));
    check!(c, "SETNX y new", Reply::int(1));
    check!(c, "TTL y", Reply::int(-1));
    check!(c, "INCR z", Reply::int(1));
    assert_eq!(sorted(&c.line("KEYS *")), ["keep", "y", "z"]);
}

#[test]
fn active_expiry_removes_untouched_keys() {
    let s = Server::start(4);
    let mut c = s.client();
    let mut pipeline = Vec::new();
    for i in 0..200 {
        pipeline.extend(common::encode(&[
            "SET",
            &format!("exp:{i}"),
            "v",
            "PX",
            "50",
        ]));
    }
    c.send_raw(&pipeline);
    for _ in 0..200 {
        assert_eq!(c.read(), Reply::ok());
    }
    check!(c, "SET keep v", Reply::ok());
    // DBSIZE counts without touching keys, so only active expiry can bring it down.
    std::thread::sleep(Duration::from_millis(1500));
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut size = c.line("DBSIZE").as_int();
    while size != 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        size = c.line("DBSIZE").as_int();
    }
    assert_eq!(size, 1, "active expiry left keys behind");
    let expired: u64 = s
        .info_field("stats", "expired_keys")
        .expect("expired_keys")
        .parse()
        .unwrap();
    assert!(expired >= 200, "expired_keys {expired}");
    check!(c, "GET keep", Reply::bulk("v"));
}
