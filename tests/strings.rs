//! String commands against the real `ferrite` binary, with Redis 7's replies and error texts.
//! Keys a..h spread over the four shards, so multi-key commands take the cross-shard path.

#[macro_use]
mod common;

use common::{err_text, Reply, Server};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

const NOT_INT: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";

#[test]
fn get_and_set_basics() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "GET a", Reply::nil());
    check!(c, "SET a hello", Reply::ok());
    check!(c, "GET a", Reply::bulk("hello"));
    check!(c, "SET a world", Reply::ok());
    check!(c, "GET a", Reply::bulk("world"));
    // Empty keys and values, and binary data.
    check!(c, "SET \"\" \"\"", Reply::ok());
    check!(c, "GET \"\"", Reply::bulk(""));
    let binary: Vec<u8> = (0..=255u8).collect();
    assert_eq!(c.cmd(&[&b"SET"[..], b"bin", &binary]), Reply::ok());
    assert_eq!(c.cmd(&[&b"GET"[..], b"bin"]), Reply::bulk(&binary));
    // Commands and options are case-insensitive; keys are not.
    check!(c, "sEt B v nX", Reply::ok());
    check!(c, "get b", Reply::nil());
    check!(c, "GET B", Reply::bulk("v"));
    // Arity errors name the command in lower case.
    check!(
        c,
        "GET",
        Reply::err("ERR wrong number of arguments for 'get' command")
    );
    check!(
        c,
        "GET a b",
        Reply::err("ERR wrong number of arguments for 'get' command")
    );
    check!(
        c,
        "SET a",
        Reply::err("ERR wrong number of arguments for 'set' command")
    );
    check!(c, "SET a b c", Reply::err(SYNTAX));
}

#[test]
fn set_options() {
    let s = Server::start(4);
    let mut c = s.client();
    // NX / XX
    check!(c, "SET a 1 NX", Reply::ok());
    check!(c, "SET a 2 NX", Reply::nil());
    check!(c, "GET a", Reply::bulk("1"));
    check!(c, "SET b 1 XX", Reply::nil());
    check!(c, "EXISTS b", Reply::int(0));
    check!(c, "SET a 3 XX", Reply::ok());
    check!(c, "GET a", Reply::bulk("3"));
    check!(c, "SET a 4 NX XX", Reply::err(SYNTAX));
    check!(c, "SET a 4 XX NX", Reply::err(SYNTAX));
    // GET returns the old value, also with NX/XX.
    check!(c, "SET a 5 GET", Reply::bulk("3"));
    check!(c, "SET c 1 GET", Reply::nil());
    check!(c, "GET c", Reply::bulk("1"));
    check!(c, "SET a 6 NX GET", Reply::bulk("5"));
    check!(c, "GET a", Reply::bulk("5"));
    check!(c, "SET d 1 XX GET", Reply::nil());
    check!(c, "EXISTS d", Reply::int(0));
    // EX / PX / EXAT / PXAT
    check!(c, "SET e v EX 100", Reply::ok());
    common::assert_ttl(&mut c, "e", 100);
    check!(c, "SET e v PX 100000", Reply::ok());
    common::assert_ttl(&mut c, "e", 100);
    let pttl = c.line("PTTL e").as_int();
    assert!(pttl > 0 && pttl <= 100_000, "PTTL {pttl}");
    let at = now_ms() / 1000 + 1000;
    check!(c, &format!("SET f v EXAT {at}"), Reply::ok());
    check!(c, "EXPIRETIME f", Reply::int(at));
    let at_ms = at * 1000 + 500_000; // a whole second, so no rounding question
    check!(c, &format!("SET f v PXAT {at_ms}"), Reply::ok());
    check!(c, "PEXPIRETIME f", Reply::int(at_ms));
    // KEEPTTL keeps it, a plain SET drops it.
    check!(c, "SET f w KEEPTTL", Reply::ok());
    check!(c, "PEXPIRETIME f", Reply::int(at_ms));
    check!(c, "GET f", Reply::bulk("w"));
    check!(c, "SET f x", Reply::ok());
    check!(c, "TTL f", Reply::int(-1));
    check!(c, "SET g v KEEPTTL", Reply::ok());
    check!(c, "TTL g", Reply::int(-1));
    // Conflicting or malformed expiry options.
    check!(c, "SET f v EX 10 PX 100", Reply::err(SYNTAX));
    check!(c, "SET f v KEEPTTL EX 10", Reply::err(SYNTAX));
    check!(c, "SET f v EX 10 KEEPTTL", Reply::err(SYNTAX));
    check!(c, "SET f v EX", Reply::err(SYNTAX));
    check!(c, "SET f v BADOPT", Reply::err(SYNTAX));
    check!(c, "SET f v EX abc", Reply::err(NOT_INT));
    check!(c, "SET f v EX 1.5", Reply::err(NOT_INT));
    for bad in ["EX 0", "EX -1", "PX 0", "PX -5", "EXAT 0", "PXAT -1"] {
        check!(
            c,
            &format!("SET f v {bad}"),
            Reply::err("ERR invalid expire time in 'set' command")
        );
    }
    check!(
        c,
        "SET f v EX 9223372036854775807",
        Reply::err("ERR invalid expire time in 'set' command")
    );
    // The failed SETs left f alone.
    check!(c, "GET f", Reply::bulk("x"));
    check!(c, "TTL f", Reply::int(-1));
    // An absolute time in the past: the key is gone at once.
    check!(c, "SET h v PXAT 1", Reply::ok());
    check!(c, "EXISTS h", Reply::int(0));
}

#[test]
fn setnx_setex_psetex() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "SETNX a 1", Reply::int(1));
    check!(c, "SETNX a 2", Reply::int(0));
    check!(c, "GET a", Reply::bulk("1"));
    check!(c, "SETEX b 100 v", Reply::ok());
    common::assert_ttl(&mut c, "b", 100);
    check!(c, "GET b", Reply::bulk("v"));
    check!(
        c,
        "SETEX b 0 v",
        Reply::err("ERR invalid expire time in 'setex' command")
    );
    check!(
        c,
        "SETEX b -5 v",
        Reply::err("ERR invalid expire time in 'setex' command")
    );
    check!(c, "SETEX b abc v", Reply::err(NOT_INT));
    check!(
        c,
        "SETEX b 10",
        Reply::err("ERR wrong number of arguments for 'setex' command")
    );
    check!(c, "PSETEX c 100000 v", Reply::ok());
    common::assert_ttl(&mut c, "c", 100);
    check!(
        c,
        "PSETEX c 0 v",
        Reply::err("ERR invalid expire time in 'psetex' command")
    );
    // SETEX replaces the TTL and the value.
    check!(c, "SETEX c 50 w", Reply::ok());
    common::assert_ttl(&mut c, "c", 50);
    check!(c, "GET c", Reply::bulk("w"));
}

#[test]
fn mget_mset_msetnx_across_shards() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "MSET a 1 b 2 c 3 d 4 e 5 f 6", Reply::ok());
    check!(
        c,
        "MGET a b c d e f nosuch",
        Reply::arr(vec![
            Reply::bulk("1"),
            Reply::bulk("2"),
            Reply::bulk("3"),
            Reply::bulk("4"),
            Reply::bulk("5"),
            Reply::bulk("6"),
            Reply::nil(),
        ])
    );
    // The same key twice: the last value wins; MGET repeats it.
    check!(c, "MSET a x b y a z", Reply::ok());
    check!(c, "MGET a b a", Reply::bulks(&["z", "y", "z"]));
    check!(
        c,
        "MSET a 1 b",
        Reply::err("ERR wrong number of arguments for 'mset' command")
    );
    check!(
        c,
        "MSET a",
        Reply::err("ERR wrong number of arguments for 'mset' command")
    );
    check!(
        c,
        "MGET",
        Reply::err("ERR wrong number of arguments for 'mget' command")
    );
    // MSETNX is all or nothing, across shards.
    check!(c, "MSETNX g 1 h 2 a 9", Reply::int(0));
    check!(
        c,
        "MGET g h a",
        Reply::arr(vec![Reply::nil(), Reply::nil(), Reply::bulk("z")])
    );
    check!(c, "MSETNX g 1 h 2 x 3", Reply::int(1));
    check!(c, "MGET g h x", Reply::bulks(&["1", "2", "3"]));
    check!(
        c,
        "MSETNX g 1 h",
        Reply::err("ERR wrong number of arguments for 'msetnx' command")
    );
    // MSET drops TTLs of the keys it sets.
    check!(c, "SET a v EX 100", Reply::ok());
    check!(c, "MSET a 1 b 2", Reply::ok());
    check!(c, "TTL a", Reply::int(-1));
}

#[test]
fn getset_getdel_getex() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "GETSET a 1", Reply::nil());
    check!(c, "GETSET a 2", Reply::bulk("1"));
    check!(c, "SET a 3 EX 100", Reply::ok());
    check!(c, "GETSET a 4", Reply::bulk("3"));
    check!(c, "TTL a", Reply::int(-1));
    check!(c, "GETDEL a", Reply::bulk("4"));
    check!(c, "GETDEL a", Reply::nil());
    check!(c, "EXISTS a", Reply::int(0));
    // GETEX
    check!(c, "SET b v", Reply::ok());
    check!(c, "GETEX b", Reply::bulk("v"));
    check!(c, "TTL b", Reply::int(-1));
    check!(c, "GETEX b EX 100", Reply::bulk("v"));
    common::assert_ttl(&mut c, "b", 100);
    check!(c, "GETEX b PX 200000", Reply::bulk("v"));
    common::assert_ttl(&mut c, "b", 200);
    let at = now_ms() / 1000 + 5000;
    check!(c, &format!("GETEX b EXAT {at}"), Reply::bulk("v"));
    check!(c, "EXPIRETIME b", Reply::int(at));
    check!(c, &format!("GETEX b PXAT {}", at * 1000), Reply::bulk("v"));
    check!(c, "PEXPIRETIME b", Reply::int(at * 1000));
    check!(c, "GETEX b PERSIST", Reply::bulk("v"));
    check!(c, "TTL b", Reply::int(-1));
    check!(c, "GETEX nosuch", Reply::nil());
    check!(c, "GETEX nosuch EX 10", Reply::nil());
    check!(c, "GETEX b EX 10 PX 10", Reply::err(SYNTAX));
    check!(c, "GETEX b PERSIST EX 10", Reply::err(SYNTAX));
    check!(c, "GETEX b FOO", Reply::err(SYNTAX));
    check!(c, "GETEX b EX", Reply::err(SYNTAX));
    check!(c, "GETEX b EX abc", Reply::err(NOT_INT));
    check!(
        c,
        "GETEX b EX 0",
        Reply::err("ERR invalid expire time in 'getex' command")
    );
    check!(
        c,
        "GETEX b PX -1",
        Reply::err("ERR invalid expire time in 'getex' command")
    );
    // An absolute time in the past deletes the key after returning it.
    check!(c, "GETEX b PXAT 1", Reply::bulk("v"));
    check!(c, "EXISTS b", Reply::int(0));
}

#[test]
fn append_and_strlen() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "STRLEN a", Reply::int(0));
    check!(c, "APPEND a hello", Reply::int(5));
    check!(c, "APPEND a \" world\"", Reply::int(11));
    check!(c, "GET a", Reply::bulk("hello world"));
    check!(c, "STRLEN a", Reply::int(11));
    check!(c, "APPEND a \"\"", Reply::int(11));
    // APPEND of nothing to a missing key creates an empty string.
    check!(c, "APPEND b \"\"", Reply::int(0));
    check!(c, "EXISTS b", Reply::int(1));
    check!(c, "GET b", Reply::bulk(""));
    // APPEND keeps the TTL.
    check!(c, "SET c x EX 100", Reply::ok());
    check!(c, "APPEND c y", Reply::int(2));
    common::assert_ttl(&mut c, "c", 100);
}

#[test]
fn counters() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "INCR a", Reply::int(1));
    check!(c, "INCR a", Reply::int(2));
    check!(c, "INCRBY a 10", Reply::int(12));
    check!(c, "DECR a", Reply::int(11));
    check!(c, "DECRBY a 5", Reply::int(6));
    check!(c, "INCRBY a -10", Reply::int(-4));
    check!(c, "DECRBY a -4", Reply::int(0));
    check!(c, "GET a", Reply::bulk("0"));
    check!(c, "DECR nosuch", Reply::int(-1));
    // Not integers.
    for bad in [
        "abc",
        "1.5",
        " 1",
        "+1",
        "0x10",
        "01",
        "",
        "9223372036854775808",
    ] {
        check!(c, &format!("INCRBY a \"{bad}\""), Reply::err(NOT_INT));
    }
    check!(c, "SET b hello", Reply::ok());
    check!(c, "INCR b", Reply::err(NOT_INT));
    check!(c, "SET b \" 1\"", Reply::ok());
    check!(c, "INCR b", Reply::err(NOT_INT));
    check!(c, "SET b 01", Reply::ok());
    check!(c, "INCR b", Reply::err(NOT_INT));
    check!(c, "SET b 1e3", Reply::ok());
    check!(c, "INCR b", Reply::err(NOT_INT));
    // Overflow.
    check!(c, "SET m 9223372036854775807", Reply::ok());
    check!(
        c,
        "INCR m",
        Reply::err("ERR increment or decrement would overflow")
    );
    check!(c, "GET m", Reply::bulk("9223372036854775807"));
    check!(c, "SET n -9223372036854775808", Reply::ok());
    check!(
        c,
        "DECR n",
        Reply::err("ERR increment or decrement would overflow")
    );
    check!(
        c,
        "DECRBY n 1",
        Reply::err("ERR increment or decrement would overflow")
    );
    check!(
        c,
        "INCRBY n -1",
        Reply::err("ERR increment or decrement would overflow")
    );
    check!(
        c,
        "DECRBY a -9223372036854775808",
        Reply::err("ERR decrement would overflow")
    );
    check!(c, "INCRBY a -9223372036854775808", Reply::int(i64::MIN));
    // Counters keep the TTL.
    check!(c, "SET t 5 EX 100", Reply::ok());
    check!(c, "INCR t", Reply::int(6));
    common::assert_ttl(&mut c, "t", 100);
    check!(
        c,
        "INCR",
        Reply::err("ERR wrong number of arguments for 'incr' command")
    );
    check!(
        c,
        "INCR a b",
        Reply::err("ERR wrong number of arguments for 'incr' command")
    );
}

#[test]
fn incrbyfloat() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "INCRBYFLOAT a 1.5", Reply::bulk("1.5"));
    check!(c, "INCRBYFLOAT a 0.1", Reply::bulk("1.6"));
    check!(c, "INCRBYFLOAT a -1.6", Reply::bulk("0"));
    check!(c, "INCRBYFLOAT a 1", Reply::bulk("1"));
    check!(c, "INCRBYFLOAT a 2.5e0", Reply::bulk("3.5"));
    check!(c, "INCRBYFLOAT a .5", Reply::bulk("4"));
    // The examples from the Redis documentation.
    check!(c, "SET b 10.50", Reply::ok());
    check!(c, "INCRBYFLOAT b 0.1", Reply::bulk("10.6"));
    check!(c, "INCRBYFLOAT b -5", Reply::bulk("5.6"));
    check!(c, "SET b 5.0e3", Reply::ok());
    check!(c, "INCRBYFLOAT b 2.0e2", Reply::bulk("5200"));
    // Errors.
    for bad in ["abc", "", " 1", "nan"] {
        check!(
            c,
            &format!("INCRBYFLOAT a \"{bad}\""),
            Reply::err("ERR value is not a valid float")
        );
    }
    check!(
        c,
        "INCRBYFLOAT a inf",
        Reply::err("ERR increment would produce NaN or Infinity")
    );
    check!(c, "SET s hello", Reply::ok());
    check!(
        c,
        "INCRBYFLOAT s 1",
        Reply::err("ERR value is not a valid float")
    );
    check!(c, "GET a", Reply::bulk("4"));
    // An integer key becomes a float and back.
    check!(c, "SET n 10", Reply::ok());
    check!(c, "INCRBYFLOAT n 0.5", Reply::bulk("10.5"));
    check!(c, "INCR n", Reply::err(NOT_INT));
}

#[test]
fn getrange_setrange_substr() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "SET a \"This is a string\"", Reply::ok());
    check!(c, "GETRANGE a 0 3", Reply::bulk("This"));
    check!(c, "GETRANGE a -3 -1", Reply::bulk("ing"));
    check!(c, "GETRANGE a 0 -1", Reply::bulk("This is a string"));
    check!(c, "GETRANGE a 10 100", Reply::bulk("string"));
    check!(c, "GETRANGE a -1 -5", Reply::bulk(""));
    check!(c, "GETRANGE a 5 3", Reply::bulk(""));
    check!(c, "GETRANGE a -100 2", Reply::bulk("Thi"));
    check!(c, "GETRANGE a 100 200", Reply::bulk(""));
    check!(
        c,
        "GETRANGE a -9223372036854775808 9223372036854775807",
        Reply::bulk("This is a string")
    );
    check!(c, "GETRANGE nosuch 0 10", Reply::bulk(""));
    check!(c, "GETRANGE a x 1", Reply::err(NOT_INT));
    check!(c, "SUBSTR a 0 3", Reply::bulk("This"));
    check!(c, "SUBSTR a -6 -1", Reply::bulk("string"));
    // SETRANGE
    check!(c, "SETRANGE a 5 XX", Reply::int(16));
    check!(c, "GET a", Reply::bulk("This XX a string"));
    check!(c, "SETRANGE b 3 abc", Reply::int(6));
    check!(c, "GET b", Reply::bulk(b"\0\0\0abc"));
    check!(
        c,
        "SETRANGE a -1 x",
        Reply::err("ERR offset is out of range")
    );
    check!(c, "SETRANGE a x x", Reply::err(NOT_INT));
    check!(c, "SETRANGE a 0 \"\"", Reply::int(16));
    // SETRANGE of nothing does not create the key.
    check!(c, "SETRANGE c 0 \"\"", Reply::int(0));
    check!(c, "EXISTS c", Reply::int(0));
    check!(
        c,
        "SETRANGE a 536870912 x",
        Reply::err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    );
    check!(c, "STRLEN a", Reply::int(16));
    // SETRANGE keeps the TTL.
    check!(c, "SET t hello EX 100", Reply::ok());
    check!(c, "SETRANGE t 0 j", Reply::int(5));
    common::assert_ttl(&mut c, "t", 100);
    check!(c, "GET t", Reply::bulk("jello"));
}

#[test]
fn lcs() {
    let s = Server::start(4);
    let mut c = s.client();
    // key1/key2 live on different shards (slots 9189 and 4998).
    check!(c, "MSET key1 ohmytext key2 mynewtext", Reply::ok());
    check!(c, "LCS key1 key2", Reply::bulk("mytext"));
    check!(c, "LCS key1 key2 LEN", Reply::int(6));
    let m = |a: (i64, i64), b: (i64, i64)| {
        Reply::arr(vec![
            Reply::arr(vec![Reply::int(a.0), Reply::int(a.1)]),
            Reply::arr(vec![Reply::int(b.0), Reply::int(b.1)]),
        ])
    };
    let ml = |a: (i64, i64), b: (i64, i64), len: i64| {
        Reply::arr(vec![
            Reply::arr(vec![Reply::int(a.0), Reply::int(a.1)]),
            Reply::arr(vec![Reply::int(b.0), Reply::int(b.1)]),
            Reply::int(len),
        ])
    };
    check!(
        c,
        "LCS key1 key2 IDX",
        Reply::arr(vec![
            Reply::bulk("matches"),
            Reply::arr(vec![m((4, 7), (5, 8)), m((2, 3), (0, 1))]),
            Reply::bulk("len"),
            Reply::int(6),
        ])
    );
    check!(
        c,
        "LCS key1 key2 IDX MINMATCHLEN 4",
        Reply::arr(vec![
            Reply::bulk("matches"),
            Reply::arr(vec![m((4, 7), (5, 8))]),
            Reply::bulk("len"),
            Reply::int(6),
        ])
    );
    check!(
        c,
        "LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN",
        Reply::arr(vec![
            Reply::bulk("matches"),
            Reply::arr(vec![ml((4, 7), (5, 8), 4)]),
            Reply::bulk("len"),
            Reply::int(6),
        ])
    );
    check!(
        c,
        "LCS key1 key2 IDX WITHMATCHLEN",
        Reply::arr(vec![
            Reply::bulk("matches"),
            Reply::arr(vec![ml((4, 7), (5, 8), 4), ml((2, 3), (0, 1), 2)]),
            Reply::bulk("len"),
            Reply::int(6),
        ])
    );
    check!(
        c,
        "LCS key1 key2 LEN IDX",
        Reply::err("ERR If you want both the length and indexes, please just use IDX.")
    );
    check!(c, "LCS key1 key2 FOO", Reply::err(SYNTAX));
    check!(c, "LCS key1 key2 MINMATCHLEN", Reply::err(SYNTAX));
    check!(c, "LCS key1 key2 MINMATCHLEN x", Reply::err(NOT_INT));
    // Missing keys count as empty strings.
    check!(c, "LCS key1 nosuch", Reply::bulk(""));
    check!(c, "LCS nosuch1 nosuch2 LEN", Reply::int(0));
    check!(
        c,
        "LCS a b IDX",
        Reply::arr(vec![
            Reply::bulk("matches"),
            Reply::arr(vec![]),
            Reply::bulk("len"),
            Reply::int(0),
        ])
    );
    check!(
        c,
        "LCS key1",
        Reply::err("ERR wrong number of arguments for 'lcs' command")
    );
    // In RESP3 the IDX reply is a map.
    let hello = c.line("HELLO 3");
    assert!(matches!(hello, Reply::Map(_)), "{hello:?}");
    let r = c.line("LCS key1 key2 IDX MINMATCHLEN 4");
    assert!(matches!(r, Reply::Map(_)), "{r:?}");
}

#[test]
fn with_the_redis_crate() {
    let s = Server::start(4);
    let mut con = s.conn();
    let () = redis::cmd("SET").arg("a").arg(42).query(&mut con).unwrap();
    let v: i64 = redis::cmd("GET").arg("a").query(&mut con).unwrap();
    assert_eq!(v, 42);
    let n: i64 = redis::cmd("INCRBY")
        .arg("a")
        .arg(8)
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 50);
    let () = redis::cmd("MSET")
        .arg(&["b", "x", "c", "y", "d", "z"])
        .query(&mut con)
        .unwrap();
    let vals: Vec<Option<String>> = redis::cmd("MGET")
        .arg(&["a", "b", "c", "d", "e"])
        .query(&mut con)
        .unwrap();
    assert_eq!(
        vals,
        vec![
            Some("50".to_string()),
            Some("x".into()),
            Some("y".into()),
            Some("z".into()),
            None
        ]
    );
    let e = redis::cmd("INCR")
        .arg("b")
        .query::<i64>(&mut con)
        .unwrap_err();
    assert_eq!(err_text(&e), NOT_INT);
    let e = redis::cmd("SET")
        .arg("a")
        .arg("b")
        .arg("EX")
        .arg(0)
        .query::<()>(&mut con)
        .unwrap_err();
    assert_eq!(err_text(&e), "ERR invalid expire time in 'set' command");
    let e = redis::cmd("GET").query::<()>(&mut con).unwrap_err();
    assert_eq!(
        err_text(&e),
        "ERR wrong number of arguments for 'get' command"
    );
    // A pipeline across shards comes back in order.
    let mut p = redis::pipe();
    for k in common::SPREAD_KEYS {
        p.cmd("SET").arg(k).arg(format!("v-{k}")).ignore();
    }
    for k in common::SPREAD_KEYS {
        p.cmd("GET").arg(k);
    }
    let got: Vec<String> = p.query(&mut con).unwrap();
    let want: Vec<String> = common::SPREAD_KEYS
        .iter()
        .map(|k| format!("v-{k}"))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn large_values_round_trip() {
    let s = Server::start(4);
    let mut c = s.client();
    let big = vec![b'x'; 4 << 20];
    assert_eq!(c.cmd(&[&b"SET"[..], b"big", &big]), Reply::ok());
    assert_eq!(c.cmd(&["STRLEN", "big"]), Reply::int(4 << 20));
    assert_eq!(c.cmd(&["GET", "big"]), Reply::Bulk(big.clone()));
    assert_eq!(c.cmd(&["APPEND", "big", "y"]), Reply::int((4 << 20) + 1));
    assert_eq!(c.cmd(&["GETRANGE", "big", "-2", "-1"]), Reply::bulk("xy"));
    // Lazy expiry of a big value.
    assert_eq!(c.cmd(&["PEXPIRE", "big", "30"]), Reply::int(1));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(c.cmd(&["GET", "big"]), Reply::nil());
}
