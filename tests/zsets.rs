//! Sorted set commands against the real `ferrite` binary with four shards: every command, its
//! options and error texts, RESP3 reply shapes, encodings, multi-shard stores (atomic, with keys
//! from `SPREAD_KEYS`), and a differential run against Debian's redis-server 7.0.
//!
//! Scores in the differential run are chosen so that Redis 7.0's `%.17g` and the shortest
//! round-trip text agree (integers, halves, quarters): Ferrite formats score replies the way
//! Redis 7.2 does (shortest text), so `0.1` replies `0.1` where Redis 7.0 says
//! `0.10000000000000001`. ZSCAN formats as 7.0's `d2string` in both.

#[macro_use]
mod common;

use common::{against_redis, Reply, Server, SPREAD_KEYS};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const SYNTAX: &str = "ERR syntax error";
const NOT_FLOAT: &str = "ERR value is not a valid float";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const RANGE_NOT_FLOAT: &str = "ERR min or max is not a float";
const LEX_RANGE: &str = "ERR min or max not valid string range item";

#[test]
fn zadd_options_and_errors() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "ZADD z 1 a 2 b 3 c", Reply::int(3));
    check!(c, "ZADD z 1 a 5 d", Reply::int(1));
    check!(c, "ZADD z CH 10 a 5 d 6 e", Reply::int(2));
    check!(c, "ZADD z NX 100 a 7 f", Reply::int(1));
    check!(c, "ZSCORE z a", Reply::bulk("10"));
    check!(c, "ZADD z XX 11 a 8 nosuch", Reply::int(0));
    check!(c, "ZSCORE z a", Reply::bulk("11"));
    check!(c, "ZSCORE z nosuch", Reply::nil());
    check!(c, "ZADD z XX CH 12 a", Reply::int(1));
    check!(c, "ZADD z GT CH 1 a 13 b", Reply::int(1));
    check!(c, "ZSCORE z a", Reply::bulk("12"));
    check!(c, "ZSCORE z b", Reply::bulk("13"));
    check!(c, "ZADD z LT CH 20 a 0.5 b", Reply::int(1));
    check!(c, "ZSCORE z b", Reply::bulk("0.5"));
    check!(c, "ZADD z GT 1 newone", Reply::int(1));
    check!(c, "ZADD z INCR 2.5 a", Reply::bulk("14.5"));
    check!(c, "ZADD z INCR NX 1 a", Reply::nil());
    check!(c, "ZADD z INCR XX 1 nosuch", Reply::nil());
    check!(c, "ZADD z INCR GT -1 a", Reply::nil());
    check!(c, "ZADD z XX 1 a", Reply::int(0));
    check!(c, "ZADD nokey XX 1 a", Reply::int(0));
    check!(c, "EXISTS nokey", Reply::int(0));
    check!(c, "ZADD nokey XX INCR 1 a", Reply::nil());
    check!(c, "ZADD inf +inf a -inf b", Reply::int(2));
    check!(
        c,
        "ZRANGE inf 0 -1 WITHSCORES",
        Reply::bulks(&["b", "-inf", "a", "inf"])
    );
    check!(c, "ZADD inf INCR 1 a", Reply::bulk("inf"));
    check!(
        c,
        "ZADD inf INCR -inf a",
        Reply::err("ERR resulting score is not a number (NaN)")
    );
    check!(
        c,
        "ZINCRBY inf -inf a",
        Reply::err("ERR resulting score is not a number (NaN)")
    );
    check!(c, "ZSCORE inf a", Reply::bulk("inf"));

    check!(
        c,
        "ZADD z XX NX 1 a",
        Reply::err("ERR XX and NX options at the same time are not compatible")
    );
    let gtlt = Reply::err("ERR GT, LT, and/or NX options at the same time are not compatible");
    check!(c, "ZADD z GT NX 1 a", gtlt.clone());
    check!(c, "ZADD z LT NX 1 a", gtlt.clone());
    check!(c, "ZADD z GT LT 1 a", gtlt);
    check!(
        c,
        "ZADD z INCR 1 a 2 b",
        Reply::err("ERR INCR option supports a single increment-element pair")
    );
    check!(c, "ZADD z 1 a 2", Reply::err(SYNTAX));
    check!(c, "ZADD z NX 1", Reply::err(SYNTAX));
    check!(c, "ZADD z nan a", Reply::err(NOT_FLOAT));
    check!(c, "ZADD z abc a", Reply::err(NOT_FLOAT));
    check!(c, "ZADD z 1 a x b", Reply::err(NOT_FLOAT));
    check!(
        c,
        "ZADD z",
        Reply::err("ERR wrong number of arguments for 'zadd' command")
    );
    c.setup("SET str v");
    check!(c, "ZADD str 1 a", Reply::err(WRONGTYPE));
    // Score errors come before the type check, as in Redis.
    check!(c, "ZADD str x a", Reply::err(NOT_FLOAT));

    check!(c, "ZINCRBY z 2 a", Reply::bulk("3"));
    check!(c, "ZINCRBY z 2 brandnew", Reply::bulk("2"));
    check!(c, "ZINCRBY z abc a", Reply::err(NOT_FLOAT));
    check!(c, "ZINCRBY str 1 a", Reply::err(WRONGTYPE));

    check!(c, "ZREM z a nosuch b", Reply::int(2));
    check!(c, "ZREM nokey a", Reply::int(0));
    check!(c, "ZREM str a", Reply::err(WRONGTYPE));
    check!(c, "ZADD one 1 a", Reply::int(1));
    check!(c, "ZREM one a", Reply::int(1));
    check!(c, "EXISTS one", Reply::int(0));
}

#[test]
fn scores_ranks_and_counts() {
    let s = Server::start(4);
    let mut c = s.client();
    c.setup("ZADD z 1 a 2 b 2 c 3 d 4.5 e");
    c.setup("SET str v");
    check!(c, "ZCARD z", Reply::int(5));
    check!(c, "ZCARD nokey", Reply::int(0));
    check!(c, "ZCARD str", Reply::err(WRONGTYPE));
    check!(
        c,
        "ZMSCORE z a nosuch e",
        Reply::arr(vec![Reply::bulk("1"), Reply::nil(), Reply::bulk("4.5")])
    );
    check!(
        c,
        "ZMSCORE nokey a b",
        Reply::arr(vec![Reply::nil(), Reply::nil()])
    );
    check!(c, "ZSCORE str a", Reply::err(WRONGTYPE));
    check!(c, "ZRANK z a", Reply::int(0));
    check!(c, "ZRANK z c", Reply::int(2));
    check!(c, "ZREVRANK z c", Reply::int(2));
    check!(c, "ZREVRANK z e", Reply::int(0));
    check!(c, "ZRANK z nosuch", Reply::nil());
    check!(c, "ZRANK nokey a", Reply::nil());
    check!(c, "ZRANK str a", Reply::err(WRONGTYPE));
    if !against_redis() {
        // WITHSCORE is Redis 7.2's; Debian's redis-server is 7.0.
        check!(
            c,
            "ZRANK z e WITHSCORE",
            Reply::arr(vec![Reply::int(4), Reply::bulk("4.5")])
        );
        check!(
            c,
            "ZREVRANK z e withscore",
            Reply::arr(vec![Reply::int(0), Reply::bulk("4.5")])
        );
        check!(c, "ZRANK z nosuch WITHSCORE", Reply::NilArray);
        check!(c, "ZRANK nokey a WITHSCORE", Reply::NilArray);
        check!(c, "ZRANK z a WITHSCORES", Reply::err(SYNTAX));
        check!(
            c,
            "ZRANK z a WITHSCORE x",
            Reply::err("ERR wrong number of arguments for 'zrank' command")
        );
    }
    check!(c, "ZCOUNT z -inf +inf", Reply::int(5));
    check!(c, "ZCOUNT z 2 3", Reply::int(3));
    check!(c, "ZCOUNT z (2 3", Reply::int(1));
    check!(c, "ZCOUNT z (1 (3", Reply::int(2));
    check!(c, "ZCOUNT z 3 2", Reply::int(0));
    check!(c, "ZCOUNT z ( (", Reply::int(0));
    check!(c, "ZCOUNT nokey 0 1", Reply::int(0));
    check!(c, "ZCOUNT z a 1", Reply::err(RANGE_NOT_FLOAT));
    check!(c, "ZCOUNT z 1 nan", Reply::err(RANGE_NOT_FLOAT));
    check!(c, "ZCOUNT str a 1", Reply::err(RANGE_NOT_FLOAT));
    check!(c, "ZCOUNT str 0 1", Reply::err(WRONGTYPE));
    c.setup("ZADD lex 0 a 0 b 0 c 0 d 0 e");
    check!(c, "ZLEXCOUNT lex - +", Reply::int(5));
    check!(c, "ZLEXCOUNT lex [b [d", Reply::int(3));
    check!(c, "ZLEXCOUNT lex (b (d", Reply::int(1));
    check!(c, "ZLEXCOUNT lex + -", Reply::int(0));
    check!(c, "ZLEXCOUNT lex [c [c", Reply::int(1));
    check!(c, "ZLEXCOUNT lex (c [c", Reply::int(0));
    check!(c, "ZLEXCOUNT lex a b", Reply::err(LEX_RANGE));
    check!(c, "ZLEXCOUNT lex [a +b", Reply::err(LEX_RANGE));
    check!(c, "ZLEXCOUNT str - +", Reply::err(WRONGTYPE));
}

#[test]
fn zrange_in_all_its_forms() {
    let s = Server::start(4);
    let mut c = s.client();
    c.setup("ZADD z 1 a 2 b 3 c 4 d 5 e");
    c.setup("ZADD lex 0 a 0 b 0 c 0 d 0 e");
    c.setup("SET str v");
    check!(c, "ZRANGE z 0 -1", Reply::bulks(&["a", "b", "c", "d", "e"]));
    check!(
        c,
        "ZRANGE z 1 2 WITHSCORES",
        Reply::bulks(&["b", "2", "c", "3"])
    );
    check!(c, "ZRANGE z -2 100", Reply::bulks(&["d", "e"]));
    check!(c, "ZRANGE z 3 1", Reply::bulks(&[]));
    check!(c, "ZRANGE z 0 1 REV", Reply::bulks(&["e", "d"]));
    check!(
        c,
        "ZREVRANGE z 0 1 WITHSCORES",
        Reply::bulks(&["e", "5", "d", "4"])
    );
    check!(c, "ZRANGE z 2 4 BYSCORE", Reply::bulks(&["b", "c", "d"]));
    check!(
        c,
        "ZRANGE z (2 +inf BYSCORE LIMIT 1 2",
        Reply::bulks(&["d", "e"])
    );
    check!(
        c,
        "ZRANGE z 4 (2 BYSCORE REV WITHSCORES",
        Reply::bulks(&["d", "4", "c", "3"])
    );
    check!(
        c,
        "ZRANGE z -inf +inf BYSCORE LIMIT 1 -1",
        Reply::bulks(&["b", "c", "d", "e"])
    );
    check!(
        c,
        "ZRANGE z -inf +inf BYSCORE LIMIT -1 2",
        Reply::bulks(&[])
    );
    check!(
        c,
        "ZRANGE z -inf +inf BYSCORE LIMIT 10 2",
        Reply::bulks(&[])
    );
    check!(
        c,
        "ZRANGEBYSCORE z 2 4 WITHSCORES LIMIT 0 1",
        Reply::bulks(&["b", "2"])
    );
    check!(c, "ZRANGEBYSCORE z (1 (3", Reply::bulks(&["b"]));
    check!(c, "ZREVRANGEBYSCORE z +inf 4", Reply::bulks(&["e", "d"]));
    check!(c, "ZREVRANGEBYSCORE z 4 +inf", Reply::bulks(&[]));
    check!(c, "ZRANGE lex [b (d BYLEX", Reply::bulks(&["b", "c"]));
    check!(
        c,
        "ZRANGE lex + [c BYLEX REV LIMIT 0 2",
        Reply::bulks(&["e", "d"])
    );
    check!(
        c,
        "ZRANGEBYLEX lex - + LIMIT 2 10",
        Reply::bulks(&["c", "d", "e"])
    );
    check!(c, "ZREVRANGEBYLEX lex (c -", Reply::bulks(&["b", "a"]));
    check!(c, "ZRANGE nokey 0 -1", Reply::bulks(&[]));
    check!(c, "ZRANGE str 0 -1", Reply::err(WRONGTYPE));
    // Option errors, in Redis's order: options, conflicts, then the range, then the key.
    check!(
        c,
        "ZRANGE z 0 1 LIMIT 0 1",
        Reply::err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
        )
    );
    check!(
        c,
        "ZRANGE lex - + BYLEX WITHSCORES",
        Reply::err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    );
    check!(c, "ZRANGE z 0 1 BYSCORE BYLEX", Reply::err(SYNTAX));
    check!(c, "ZRANGE z 0 1 REV REV", Reply::err(SYNTAX));
    check!(c, "ZRANGE z (1 2 BYSCORE LIMIT", Reply::err(SYNTAX));
    check!(c, "ZRANGE z 0 1 BYSCORE LIMIT a 1", Reply::err(NOT_INT));
    check!(c, "ZRANGE z a 1", Reply::err(NOT_INT));
    check!(c, "ZRANGE z [a [b", Reply::err(NOT_INT));
    check!(c, "ZRANGE z a b BYSCORE", Reply::err(RANGE_NOT_FLOAT));
    check!(c, "ZRANGE z a b BYLEX", Reply::err(LEX_RANGE));
    check!(c, "ZRANGE str a b BYLEX", Reply::err(LEX_RANGE));
    check!(c, "ZRANGEBYSCORE z 1 2 REV", Reply::err(SYNTAX));
    check!(c, "ZRANGEBYSCORE z 1 2 BYLEX", Reply::err(SYNTAX));
    check!(c, "ZREVRANGE z 0 -1 BYSCORE", Reply::err(SYNTAX));
    check!(c, "ZRANGEBYLEX z a b", Reply::err(LEX_RANGE));

    check!(c, "ZRANGESTORE dst z 1 -1", Reply::int(4));
    check!(
        c,
        "ZRANGE dst 0 -1 WITHSCORES",
        Reply::bulks(&["b", "2", "c", "3", "d", "4", "e", "5"])
    );
    check!(
        c,
        "ZRANGESTORE dst z (5 3 BYSCORE REV LIMIT 0 1",
        Reply::int(1)
    );
    check!(c, "ZRANGE dst 0 -1", Reply::bulks(&["d"]));
    check!(c, "ZRANGESTORE dst lex [b [c BYLEX", Reply::int(2));
    check!(c, "ZRANGESTORE dst z 10 20", Reply::int(0));
    check!(c, "EXISTS dst", Reply::int(0));
    check!(c, "ZRANGESTORE dst z 0 -1 WITHSCORES", Reply::err(SYNTAX));
    check!(c, "ZRANGESTORE dst str 0 -1", Reply::err(WRONGTYPE));
    c.setup("SET dst2 v");
    check!(c, "ZRANGESTORE dst2 nokey 0 -1", Reply::int(0));
    check!(c, "EXISTS dst2", Reply::int(0));
}

#[test]
fn removals_by_range() {
    let s = Server::start(4);
    let mut c = s.client();
    c.setup("ZADD z 1 a 2 b 3 c 4 d 5 e");
    check!(c, "ZREMRANGEBYRANK z 0 1", Reply::int(2));
    check!(c, "ZRANGE z 0 -1", Reply::bulks(&["c", "d", "e"]));
    check!(c, "ZREMRANGEBYRANK z 5 10", Reply::int(0));
    check!(c, "ZREMRANGEBYRANK z -1 -1", Reply::int(1));
    check!(c, "ZREMRANGEBYSCORE z (3 +inf", Reply::int(1));
    check!(c, "ZREMRANGEBYSCORE z -inf 3", Reply::int(1));
    check!(c, "EXISTS z", Reply::int(0));
    c.setup("ZADD lex 0 a 0 b 0 c 0 d");
    check!(c, "ZREMRANGEBYLEX lex [b (d", Reply::int(2));
    check!(c, "ZRANGE lex 0 -1", Reply::bulks(&["a", "d"]));
    check!(c, "ZREMRANGEBYLEX lex - +", Reply::int(2));
    check!(c, "EXISTS lex", Reply::int(0));
    check!(c, "ZREMRANGEBYRANK nokey 0 -1", Reply::int(0));
    check!(c, "ZREMRANGEBYRANK nokey a 1", Reply::err(NOT_INT));
    check!(c, "ZREMRANGEBYSCORE nokey a 1", Reply::err(RANGE_NOT_FLOAT));
    check!(c, "ZREMRANGEBYLEX nokey a b", Reply::err(LEX_RANGE));
    c.setup("SET str v");
    check!(c, "ZREMRANGEBYSCORE str 0 1", Reply::err(WRONGTYPE));
}

#[test]
fn pops_and_zmpop() {
    let s = Server::start(4);
    let mut c = s.client();
    c.setup("ZADD z 1 a 2 b 3 c 4 d");
    c.setup("SET str v");
    check!(c, "ZPOPMIN z", Reply::bulks(&["a", "1"]));
    check!(c, "ZPOPMAX z 2", Reply::bulks(&["d", "4", "c", "3"]));
    check!(c, "ZPOPMIN z 0", Reply::bulks(&[]));
    check!(c, "ZPOPMAX z 10", Reply::bulks(&["b", "2"]));
    check!(c, "EXISTS z", Reply::int(0));
    check!(c, "ZPOPMIN z", Reply::bulks(&[]));
    check!(
        c,
        "ZPOPMIN z -1",
        Reply::err("ERR value is out of range, must be positive")
    );
    check!(
        c,
        "ZPOPMIN z abc",
        Reply::err("ERR value is out of range, must be positive")
    );
    check!(c, "ZPOPMIN z 1 2", Reply::err(SYNTAX));
    check!(c, "ZPOPMIN str", Reply::err(WRONGTYPE));
    check!(c, "ZPOPMIN str 0", Reply::err(WRONGTYPE));

    let [a, b, cc, d, ..] = SPREAD_KEYS;
    c.setup(&format!("ZADD {b} 1 x 2 y 3 z"));
    c.setup(&format!("ZADD {d} 5 p"));
    check!(
        c,
        &format!("ZMPOP 3 {a} {b} {d} MIN"),
        Reply::arr(vec![
            Reply::bulk(b),
            Reply::arr(vec![Reply::bulks(&["x", "1"])])
        ])
    );
    check!(
        c,
        &format!("ZMPOP 3 {a} {b} {d} MAX COUNT 5"),
        Reply::arr(vec![
            Reply::bulk(b),
            Reply::arr(vec![Reply::bulks(&["z", "3"]), Reply::bulks(&["y", "2"])])
        ])
    );
    check!(
        c,
        &format!("ZMPOP 3 {a} {b} {d} MAX COUNT 5"),
        Reply::arr(vec![
            Reply::bulk(d),
            Reply::arr(vec![Reply::bulks(&["p", "5"])])
        ])
    );
    check!(c, &format!("ZMPOP 2 {a} {cc} MIN"), Reply::NilArray);
    check!(c, &format!("EXISTS {b} {d}"), Reply::int(0));
    check!(
        c,
        "ZMPOP 0 z MIN",
        Reply::err("ERR numkeys should be greater than 0")
    );
    check!(
        c,
        "ZMPOP abc z MIN",
        Reply::err("ERR numkeys should be greater than 0")
    );
    check!(c, "ZMPOP 2 z MIN", Reply::err(SYNTAX));
    check!(c, "ZMPOP 1 z FOO", Reply::err(SYNTAX));
    check!(
        c,
        "ZMPOP 1 z MIN COUNT 0",
        Reply::err("ERR count should be greater than 0")
    );
    check!(c, "ZMPOP 1 z MIN COUNT 1 COUNT 1", Reply::err(SYNTAX));
    check!(c, "ZMPOP 2 nokey str MIN", Reply::err(WRONGTYPE));
}

#[test]
fn zrandmember() {
    let s = Server::start(4);
    let mut c = s.client();
    c.setup("ZADD z 1 a 2 b 3 c");
    let one = c.line("ZRANDMEMBER z").text();
    assert!(["a", "b", "c"].contains(&one.as_str()));
    check!(c, "ZRANDMEMBER nokey", Reply::nil());
    check!(c, "ZRANDMEMBER nokey 3", Reply::bulks(&[]));
    check!(c, "ZRANDMEMBER z 0", Reply::bulks(&[]));
    let mut all = c.line("ZRANDMEMBER z 10").strings();
    all.sort();
    assert_eq!(all, ["a", "b", "c"]);
    let two = c.line("ZRANDMEMBER z 2").strings();
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1]);
    let many = c.line("ZRANDMEMBER z -7").strings();
    assert_eq!(many.len(), 7);
    let with = c.line("ZRANDMEMBER z -4 WITHSCORES").strings();
    assert_eq!(with.len(), 8);
    for p in with.chunks(2) {
        let want = match p[0].as_str() {
            "a" => "1",
            "b" => "2",
            _ => "3",
        };
        assert_eq!(p[1], want);
    }
    check!(c, "ZRANDMEMBER z 1 WITHSCORES x", Reply::err(SYNTAX));
    check!(c, "ZRANDMEMBER z 1 FOO", Reply::err(SYNTAX));
    check!(c, "ZRANDMEMBER z abc", Reply::err(NOT_INT));
    check!(
        c,
        "ZRANDMEMBER z 9223372036854775807 WITHSCORES",
        Reply::err("ERR value is out of range")
    );
    c.setup("SET str v");
    check!(c, "ZRANDMEMBER str", Reply::err(WRONGTYPE));
    check!(c, "ZRANDMEMBER str 2", Reply::err(WRONGTYPE));
}

#[test]
fn union_inter_diff_and_stores_across_shards() {
    let s = Server::start(4);
    let mut c = s.client();
    let [a, b, cc, d, e, ..] = SPREAD_KEYS;
    c.setup(&format!("ZADD {a} 1 x 2 y 3 z"));
    c.setup(&format!("ZADD {b} 10 y 20 z 30 w"));
    c.setup(&format!("SADD {cc} z q"));
    check!(
        c,
        &format!("ZUNION 2 {a} {b} WITHSCORES"),
        Reply::bulks(&["x", "1", "y", "12", "z", "23", "w", "30"])
    );
    check!(
        c,
        &format!("ZUNION 2 {a} {b} WEIGHTS 2 0.5 AGGREGATE MAX WITHSCORES"),
        Reply::bulks(&["x", "2", "y", "5", "z", "10", "w", "15"])
    );
    check!(
        c,
        &format!("ZINTER 2 {a} {b} AGGREGATE MIN WITHSCORES"),
        Reply::bulks(&["y", "2", "z", "3"])
    );
    check!(
        c,
        &format!("ZINTER 3 {a} {b} {cc} WITHSCORES"),
        Reply::bulks(&["z", "24"])
    );
    check!(
        c,
        &format!("ZDIFF 2 {a} {b} WITHSCORES"),
        Reply::bulks(&["x", "1"])
    );
    check!(c, &format!("ZDIFF 2 {b} {cc}"), Reply::bulks(&["y", "w"]));
    check!(
        c,
        &format!("ZUNION 2 {a} nokey"),
        Reply::bulks(&["x", "y", "z"])
    );
    check!(c, &format!("ZINTER 2 {a} nokey"), Reply::bulks(&[]));
    check!(
        c,
        &format!("ZUNIONSTORE {d} 2 {a} {b} WEIGHTS 1 -1"),
        Reply::int(4)
    );
    check!(
        c,
        &format!("ZRANGE {d} 0 -1 WITHSCORES"),
        Reply::bulks(&["w", "-30", "z", "-17", "y", "-8", "x", "1"])
    );
    check!(c, &format!("ZINTERSTORE {e} 2 {a} {cc}"), Reply::int(1));
    check!(
        c,
        &format!("ZRANGE {e} 0 -1 WITHSCORES"),
        Reply::bulks(&["z", "4"])
    );
    check!(c, &format!("ZDIFFSTORE {e} 2 {b} {a}"), Reply::int(1));
    check!(
        c,
        &format!("ZRANGE {e} 0 -1 WITHSCORES"),
        Reply::bulks(&["w", "30"])
    );
    check!(c, &format!("ZINTERSTORE {e} 2 {a} nokey"), Reply::int(0));
    check!(c, &format!("EXISTS {e}"), Reply::int(0));
    // The destination may be one of the sources.
    check!(c, &format!("ZUNIONSTORE {a} 2 {a} {b}"), Reply::int(4));
    check!(c, &format!("ZSCORE {a} z"), Reply::bulk("23"));
    check!(c, &format!("ZINTERCARD 2 {a} {b}"), Reply::int(3));
    check!(c, &format!("ZINTERCARD 2 {a} {b} LIMIT 2"), Reply::int(2));
    check!(c, &format!("ZINTERCARD 2 {a} {b} LIMIT 0"), Reply::int(3));
    check!(c, &format!("ZINTERCARD 2 {a} {cc}"), Reply::int(1));

    check!(
        c,
        "ZUNION 0 x",
        Reply::err("ERR at least 1 input key is needed for 'zunion' command")
    );
    check!(
        c,
        "ZUNIONSTORE d 0 x",
        Reply::err("ERR at least 1 input key is needed for 'zunionstore' command")
    );
    check!(
        c,
        "ZINTERCARD 0 x",
        Reply::err("ERR at least 1 input key is needed for 'zintercard' command")
    );
    check!(c, "ZUNION abc x", Reply::err(NOT_INT));
    check!(c, "ZUNION 3 x y", Reply::err(SYNTAX));
    check!(
        c,
        "ZUNION 1 x WEIGHTS a",
        Reply::err("ERR weight value is not a float")
    );
    check!(c, "ZUNION 2 x y WEIGHTS 1", Reply::err(SYNTAX));
    check!(c, "ZUNION 1 x AGGREGATE avg", Reply::err(SYNTAX));
    check!(c, "ZDIFF 1 x WEIGHTS 1", Reply::err(SYNTAX));
    check!(c, "ZUNIONSTORE d 1 x WITHSCORES", Reply::err(SYNTAX));
    check!(c, "ZINTERCARD 1 x WITHSCORES", Reply::err(SYNTAX));
    check!(
        c,
        "ZINTERCARD 1 x LIMIT -1",
        Reply::err("ERR LIMIT can't be negative")
    );
    c.setup("SET str v");
    check!(c, "ZUNION 2 x str", Reply::err(WRONGTYPE));
    // The type is checked before the options, as in Redis.
    check!(c, "ZUNION 1 str AGGREGATE avg", Reply::err(WRONGTYPE));
    check!(c, "ZINTERSTORE d 1 str", Reply::err(WRONGTYPE));
}

#[test]
fn command_getkeys_reads_numkeys_specs() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(
        c,
        "COMMAND GETKEYS ZUNIONSTORE d 2 a b WEIGHTS 1 2",
        Reply::bulks(&["d", "a", "b"])
    );
    check!(
        c,
        "COMMAND GETKEYS ZUNION 2 a b WITHSCORES",
        Reply::bulks(&["a", "b"])
    );
    check!(
        c,
        "COMMAND GETKEYS ZMPOP 2 a b MIN COUNT 3",
        Reply::bulks(&["a", "b"])
    );
    check!(
        c,
        "COMMAND GETKEYS ZINTERCARD 1 a LIMIT 3",
        Reply::bulks(&["a"])
    );
    check!(
        c,
        "COMMAND GETKEYS ZRANGESTORE d s 0 -1",
        Reply::bulks(&["d", "s"])
    );
}

/// A cross-shard store never sees half of a cross-shard transaction: MULTI moves one point of
/// score from one key to another (on another shard) while ZUNIONSTORE and ZUNION sum them.
#[test]
fn multi_shard_stores_are_atomic() {
    let s = Server::start(4);
    let [a, b, cc, ..] = SPREAD_KEYS;
    let mut c = s.client();
    c.setup(&format!("ZADD {a} 0 m"));
    c.setup(&format!("ZADD {b} 0 m"));
    let mut writer = s.client();
    let (a2, b2) = (a.to_string(), b.to_string());
    let handle = std::thread::spawn(move || {
        for _ in 0..300 {
            writer.cmd(&["MULTI"]);
            writer.cmd(&["ZINCRBY", &a2, "1", "m"]);
            writer.cmd(&["ZINCRBY", &b2, "-1", "m"]);
            let r = writer.cmd(&["EXEC"]);
            assert_eq!(r.items().len(), 2, "{r:?}");
        }
    });
    for _ in 0..300 {
        check!(c, &format!("ZUNIONSTORE {cc} 2 {a} {b}"), Reply::int(1));
        check!(c, &format!("ZSCORE {cc} m"), Reply::bulk("0"));
        check!(
            c,
            &format!("ZUNION 2 {a} {b} WITHSCORES"),
            Reply::bulks(&["m", "0"])
        );
    }
    handle.join().unwrap();
    check!(c, &format!("ZSCORE {a} m"), Reply::bulk("300"));
}

#[test]
fn resp3_reply_shapes() {
    let s = Server::start(4);
    let mut c = s.client();
    let hello = c.cmd(&["HELLO", "3"]);
    assert!(matches!(hello, Reply::Map(_)), "{hello:?}");
    let d = |s: &str| Reply::Double(s.into());
    let pair = |m: &str, s: &str| Reply::arr(vec![Reply::bulk(m), d(s)]);
    c.setup("ZADD z 1 a 2.5 b 3 c");
    check!(c, "ZSCORE z b", d("2.5"));
    check!(c, "ZSCORE z nosuch", Reply::Null);
    check!(
        c,
        "ZMSCORE z a nosuch",
        Reply::arr(vec![d("1"), Reply::Null])
    );
    check!(c, "ZINCRBY z 1 a", d("2"));
    check!(c, "ZADD z INCR 1 a", d("3"));
    check!(
        c,
        "ZRANGE z 0 1 WITHSCORES",
        Reply::arr(vec![pair("b", "2.5"), pair("a", "3")])
    );
    check!(c, "ZRANGE z 0 1", Reply::bulks(&["b", "a"]));
    check!(
        c,
        "ZUNION 1 z WITHSCORES",
        Reply::arr(vec![pair("b", "2.5"), pair("a", "3"), pair("c", "3")])
    );
    if !against_redis() {
        check!(
            c,
            "ZRANK z b WITHSCORE",
            Reply::arr(vec![Reply::int(0), d("2.5")])
        );
        check!(c, "ZRANK z nosuch WITHSCORE", Reply::Null);
    }
    let r = c.line("ZRANDMEMBER z -1 WITHSCORES");
    assert_eq!(r.items().len(), 1, "{r:?}");
    assert!(
        matches!(r.items()[0].items(), [Reply::Bulk(_), Reply::Double(_)]),
        "{r:?}"
    );
    check!(c, "ZPOPMIN z", Reply::arr(vec![Reply::bulk("b"), d("2.5")]));
    check!(c, "ZPOPMIN z 1", Reply::arr(vec![pair("a", "3")]));
    c.setup("ZADD z 4 d");
    check!(
        c,
        "ZMPOP 1 z MAX COUNT 1",
        Reply::arr(vec![Reply::bulk("z"), Reply::arr(vec![pair("d", "4")])])
    );
    check!(c, "ZMPOP 1 nokey MIN", Reply::Null);
    check!(
        c,
        "ZSCAN z 0",
        Reply::arr(vec![Reply::bulk("0"), Reply::bulks(&["c", "3"])])
    );
}

#[test]
fn encodings_type_and_wrongtype() {
    let s = Server::start(4);
    let mut c = s.client();
    c.setup("ZADD z 1 a");
    check!(c, "TYPE z", Reply::status("zset"));
    check!(c, "OBJECT ENCODING z", Reply::bulk("listpack"));
    for i in 0..127 {
        c.setup(&format!("ZADD z {i} m{i}"));
    }
    check!(c, "ZCARD z", Reply::int(128));
    check!(c, "OBJECT ENCODING z", Reply::bulk("listpack"));
    c.setup("ZADD z 1000 one-more");
    check!(c, "OBJECT ENCODING z", Reply::bulk("skiplist"));
    check!(c, "ZRANK z one-more", Reply::int(128));
    check!(c, "ZRANGE z 127 128", Reply::bulks(&["m126", "one-more"]));
    let long = "x".repeat(65);
    c.setup(&format!("ZADD big 1 {long}"));
    check!(c, "OBJECT ENCODING big", Reply::bulk("skiplist"));
    c.setup(&format!("ZADD small 1 a 2 {}", "y".repeat(64)));
    check!(c, "OBJECT ENCODING small", Reply::bulk("listpack"));
    c.setup(&format!("ZADD small 3 {long}"));
    check!(c, "OBJECT ENCODING small", Reply::bulk("skiplist"));
    // A store picks the small encoding again for a small result.
    check!(c, "ZRANGESTORE copy z 0 9", Reply::int(10));
    check!(c, "OBJECT ENCODING copy", Reply::bulk("listpack"));
    check!(c, "ZUNIONSTORE copy 1 z", Reply::int(129));
    check!(c, "OBJECT ENCODING copy", Reply::bulk("skiplist"));

    c.setup("SET str v");
    for line in [
        "ZCARD str",
        "ZSCORE str a",
        "ZMSCORE str a",
        "ZRANK str a",
        "ZREVRANK str a",
        "ZRANGE str 0 1",
        "ZREVRANGE str 0 1",
        "ZRANGEBYSCORE str 0 1",
        "ZRANGEBYLEX str - +",
        "ZREVRANGEBYSCORE str 1 0",
        "ZREVRANGEBYLEX str + -",
        "ZCOUNT str 0 1",
        "ZLEXCOUNT str - +",
        "ZINCRBY str 1 a",
        "ZREM str a",
        "ZPOPMAX str",
        "ZRANDMEMBER str",
        "ZSCAN str 0",
        "ZREMRANGEBYLEX str - +",
        "ZREMRANGEBYRANK str 0 1",
        "ZDIFF 1 str",
        "ZINTERCARD 1 str",
        "ZMPOP 1 str MIN",
    ] {
        check!(c, line, Reply::err(WRONGTYPE));
    }
}

#[test]
fn zscan() {
    let s = Server::start(4);
    let mut c = s.client();
    c.setup("ZADD z 1.5 a 2 b 0.1 ab");
    check!(
        c,
        "ZSCAN z 0",
        Reply::arr(vec![
            Reply::bulk("0"),
            Reply::bulks(&["ab", "0.10000000000000001", "a", "1.5", "b", "2"])
        ])
    );
    check!(
        c,
        "ZSCAN z 0 MATCH a* COUNT 100",
        Reply::arr(vec![
            Reply::bulk("0"),
            Reply::bulks(&["ab", "0.10000000000000001", "a", "1.5"])
        ])
    );
    check!(
        c,
        "ZSCAN nokey 0",
        Reply::arr(vec![Reply::bulk("0"), Reply::bulks(&[])])
    );
    check!(c, "ZSCAN z x", Reply::err("ERR invalid cursor"));
    check!(c, "ZSCAN z 0 COUNT 0", Reply::err(SYNTAX));
    check!(c, "ZSCAN z 0 MATCH", Reply::err(SYNTAX));
}

// ---- differential --------------------------------------------------------------------------

/// Lines run against both servers; replies must be byte-equal.
const DIFF_LINES: &[&str] = &[
    // Scores whose shortest text differs from Redis 7.0's %.17g.
    "ZADD fl 0.1 a 1e20 b -0.3 c 1.5 d",
    "ZSCORE fl a",
    "ZINCRBY fl 0.2 a",
    "ZMSCORE fl a b c d nomember",
    "ZRANGE fl 0 -1 WITHSCORES",
    "ZADD z 1 a 2 b 3 c 4 d 5 e",
    "ZADD z CH GT 0 a 6 b",
    "ZADD z NX XX 1 a",
    "ZADD z GT LT 1 a",
    "ZADD z INCR 2 a 3 b",
    "ZADD z INCR 0.5 a",
    "ZADD z INCR NX 1 a",
    "ZADD z 1 a 2",
    "ZADD z nan a",
    "ZADD z -inf lo +inf hi",
    "ZADD z INCR -inf hi",
    "ZINCRBY z 2.25 c",
    "ZINCRBY z x c",
    "ZREM z lo hi nosuch",
    "ZCARD z",
    "ZSCORE z c",
    "ZMSCORE z a nosuch c",
    "ZRANK z c",
    "ZREVRANK z c",
    "ZRANK z nosuch",
    "ZCOUNT z (1 5",
    "ZCOUNT z x 5",
    "ZRANGE z 0 -1 WITHSCORES",
    "ZRANGE z 1 3 REV WITHSCORES",
    "ZRANGE z (1.5 +inf BYSCORE LIMIT 1 2 WITHSCORES",
    "ZRANGE z +inf -inf BYSCORE REV",
    "ZRANGE z 0 1 LIMIT 0 1",
    "ZRANGE z 0 1 BYLEX",
    "ZRANGE z - + BYLEX WITHSCORES",
    "ZRANGEBYSCORE z -inf 4 WITHSCORES LIMIT 0 2",
    "ZREVRANGEBYSCORE z 6 (2",
    "ZREVRANGE z 0 0 WITHSCORES",
    "ZRANGESTORE dst z 0 2",
    "ZRANGE dst 0 -1 WITHSCORES",
    "ZRANGESTORE dst z 5 (2 BYSCORE REV LIMIT 0 2",
    "ZRANGE dst 0 -1 WITHSCORES",
    "ZADD lex 0 alpha 0 beta 0 gamma 0 delta 0 epsilon",
    "ZLEXCOUNT lex [beta (gamma",
    "ZRANGEBYLEX lex - (delta",
    "ZREVRANGEBYLEX lex + [delta LIMIT 1 5",
    "ZRANGE lex [b [e BYLEX",
    "ZRANGEBYLEX lex a b",
    "ZREMRANGEBYLEX lex [alpha [beta",
    "ZRANGE lex 0 -1",
    "ZREMRANGEBYRANK lex 0 0",
    "ZREMRANGEBYSCORE z (5 +inf",
    "ZRANGE z 0 -1 WITHSCORES",
    "ZPOPMIN z",
    "ZPOPMAX z 2",
    "ZPOPMIN z -1",
    "ZPOPMIN z 0",
    "ZADD a 1 x 2 y 3 z",
    "ZADD b 10 y 20 z 30 w",
    "SADD s z q",
    "ZUNION 2 a b WITHSCORES",
    "ZUNION 3 a b s WEIGHTS 2 0.5 4 AGGREGATE MAX WITHSCORES",
    "ZINTER 2 a b AGGREGATE MIN WITHSCORES",
    "ZINTER 3 a b s",
    "ZDIFF 2 b a WITHSCORES",
    "ZUNIONSTORE u 2 a b WEIGHTS 1 -1",
    "ZRANGE u 0 -1 WITHSCORES",
    "ZINTERSTORE i 2 a nokey",
    "EXISTS i",
    "ZDIFFSTORE dd 2 b s",
    "ZRANGE dd 0 -1 WITHSCORES",
    "ZINTERCARD 2 a b",
    "ZINTERCARD 2 a b LIMIT 1",
    "ZINTERCARD 0 a",
    "ZUNION 3 a b",
    "ZUNION 1 a WEIGHTS x",
    "ZMPOP 3 nokey a b MAX COUNT 2",
    "ZMPOP 1 nokey MIN",
    "ZMPOP 0 a MIN",
    "ZMPOP 1 a MIN COUNT 0",
    "SET str v",
    "ZADD str 1 a",
    "ZRANGE str 0 -1",
    "ZUNION 2 a str",
    "ZSCAN b 0",
    "ZRANDMEMBER nokey",
    "ZRANDMEMBER nokey 5",
    "ZRANDMEMBER b 0",
    "ZRANDMEMBER b 1 x",
    "TYPE b",
    "OBJECT ENCODING b",
];

#[test]
fn matches_redis_server_in_resp2_and_resp3() {
    common::assert_matches_redis(DIFF_LINES);
}
