//! The compact encodings of hashes, sets and sorted sets: OBJECT ENCODING switches exactly where
//! Debian's redis-server 7.0 switches, at the default thresholds and at thresholds changed with
//! CONFIG SET (under Redis's names and the old `*-ziplist-*` aliases), and the data reads the same
//! on both sides across each conversion. Also what only Ferrite has: small sets of strings stay
//! packed below `set-max-listpack-*` (reported as "hashtable", as Redis 7.0 reports them), and the
//! `[encodings]` section of the configuration file.

mod common;

use common::{differences_with_redis, Reply, Server};

fn assert_same_as_redis(group: &str, lines: &[String]) {
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let diffs = differences_with_redis(&refs, false);
    assert!(
        diffs.is_empty(),
        "{group}: {} of {} commands differ from redis-server:\n{}",
        diffs.len(),
        lines.len(),
        diffs.join("\n")
    );
}

/// `prefix0 value0 prefix1 value1 ...` for `n` pairs.
fn pairs(n: usize, field: &str, value: &str) -> String {
    (0..n)
        .map(|i| format!("{field}{i} {value}{i}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Lines that read a whole collection back in an order both servers fix.
fn hash_reads(key: &str) -> Vec<String> {
    vec![
        format!("OBJECT ENCODING {key}"),
        format!("HLEN {key}"),
        format!("HGET {key} f0"),
        format!("HMGET {key} f1 nofield f3"),
        format!("HSTRLEN {key} f2"),
    ]
}

fn zset_reads(key: &str) -> Vec<String> {
    vec![
        format!("OBJECT ENCODING {key}"),
        format!("ZCARD {key}"),
        format!("ZRANGE {key} 0 -1 WITHSCORES"),
        format!("ZREVRANGE {key} 0 4 WITHSCORES"),
        format!("ZRANGEBYSCORE {key} (1 10 WITHSCORES LIMIT 1 3"),
        format!("ZRANK {key} m3"),
        format!("ZREVRANK {key} m3"),
        format!("ZSCORE {key} m2"),
        format!("ZCOUNT {key} -inf +inf"),
    ]
}

#[test]
fn default_thresholds_switch_where_redis_switches() {
    let mut lines = vec![
        // Hashes: 512 fields of up to 64 bytes.
        format!("HSET h {}", pairs(511, "f", "v")),
        "OBJECT ENCODING h".to_string(),
        "HSET h last x".to_string(),
        "OBJECT ENCODING h".to_string(),
        "HSET h f0 updated".to_string(),
        "HSET h one-more x".to_string(),
    ];
    lines.extend(hash_reads("h"));
    lines.extend([
        "HDEL h one-more last".to_string(),
        "OBJECT ENCODING h".to_string(),
        format!("HSET hf {} v", "f".repeat(64)),
        "OBJECT ENCODING hf".to_string(),
        format!("HSET hf {} v", "f".repeat(65)),
        "OBJECT ENCODING hf".to_string(),
        format!("HSET hv f0 v0 f1 {}", "v".repeat(64)),
        "OBJECT ENCODING hv".to_string(),
        "HGETALL hv".to_string(),
        format!("HSET hv f2 {}", "v".repeat(65)),
        "OBJECT ENCODING hv".to_string(),
        "HLEN hv".to_string(),
        "HGET hv f1".to_string(),
        // Small hashes keep insertion order, through updates and deletes.
        "HSET ho c 1 a 2 b 3".to_string(),
        "HSET ho a 22 d 4".to_string(),
        "HDEL ho c".to_string(),
        "HSET ho c 5".to_string(),
        "HGETALL ho".to_string(),
        "HINCRBY ho a 1".to_string(),
        "HINCRBYFLOAT ho e 1.5".to_string(),
        "HGETALL ho".to_string(),
        // Sets: an intset holds 512 integers of any width; a string or the 513th makes a table.
        format!(
            "SADD si {}",
            (0..511)
                .map(|i| (i * 7 - 900).to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ),
        "OBJECT ENCODING si".to_string(),
        "SADD si 9223372036854775807 -9223372036854775808".to_string(),
        "OBJECT ENCODING si".to_string(),
        "SREM si 9223372036854775807".to_string(),
        "SADD si 70000".to_string(),
        "OBJECT ENCODING si".to_string(),
        "SADD si 70001".to_string(),
        "OBJECT ENCODING si".to_string(),
        "SCARD si".to_string(),
        "SMISMEMBER si -900 70000 70001 -9223372036854775808 5".to_string(),
        "SADD sm 3 1 2 -5 40000".to_string(),
        "SMEMBERS sm".to_string(),
        "SREM sm 40000".to_string(),
        "SMEMBERS sm".to_string(),
        "SADD sm 007".to_string(),
        "OBJECT ENCODING sm".to_string(),
        "SMISMEMBER sm 3 007 7 -5".to_string(),
        // An intset never narrows: its DUMP keeps the wide width after the wide member goes.
        "SADD w 1 70000".to_string(),
        "SREM w 70000".to_string(),
        "DUMP w".to_string(),
        "SADD ss a b c".to_string(),
        "OBJECT ENCODING ss".to_string(),
        "SADD ss 1".to_string(),
        "SCARD ss".to_string(),
        "SISMEMBER ss 1".to_string(),
        "SREM ss a 1".to_string(),
        "SMISMEMBER ss a b c 1".to_string(),
        // Sorted sets: 128 members of up to 64 bytes.
        format!(
            "ZADD z {}",
            (0..127)
                .map(|i| format!("{} m{i}", i as f64 / 4.0 - 3.0))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        "OBJECT ENCODING z".to_string(),
        "ZADD z 1e300 last".to_string(),
        "OBJECT ENCODING z".to_string(),
        "ZADD z 5 m0".to_string(),
        "ZINCRBY z -0.5 m1".to_string(),
        "OBJECT ENCODING z".to_string(),
        "ZADD z -inf one-more".to_string(),
    ]);
    lines.extend(zset_reads("z"));
    lines.extend([
        format!("ZADD zm 1 {}", "m".repeat(64)),
        "OBJECT ENCODING zm".to_string(),
        format!("ZADD zm 2 {}", "m".repeat(65)),
        "OBJECT ENCODING zm".to_string(),
        "ZRANGE zm 0 -1 WITHSCORES".to_string(),
        format!(
            "ZADD znew {}",
            (0..129).map(|i| format!("{i} m{i}")).collect::<Vec<_>>().join(" ")
        ),
        "OBJECT ENCODING znew".to_string(),
        // Scores of every kind survive the packed form.
        "ZADD zs 0 a -0 b 1.5 c -1 d 255 e 256 f -129 g 65536 h 9007199254740993 i 1e-300 j inf k -inf l 3 m4".to_string(),
        "ZRANGE zs 0 -1 WITHSCORES".to_string(),
        "ZSCORE zs b".to_string(),
        "ZSCORE zs i".to_string(),
        "ZRANGEBYLEX zs [a [f".to_string(),
        "ZREM zs a k l".to_string(),
        "ZRANGE zs 0 -1 WITHSCORES".to_string(),
        "ZPOPMIN zs 2".to_string(),
        "ZPOPMAX zs".to_string(),
        "ZREMRANGEBYRANK zs 0 1".to_string(),
        "ZRANGE zs 0 -1 WITHSCORES".to_string(),
    ]);
    lines.extend(zset_reads("zs"));
    assert_same_as_redis("default thresholds", &lines);
}

#[test]
fn config_set_thresholds_switch_where_redis_switches() {
    let mut lines: Vec<String> = [
        "CONFIG GET hash-max-listpack-entries", "CONFIG GET hash-max-ziplist-value",
        "CONFIG GET zset-max-ziplist-entries", "CONFIG GET zset-max-listpack-value",
        "CONFIG GET set-max-intset-entries",
        "CONFIG GET hash-max-ziplist-entries",
        "CONFIG SET hash-max-listpack-entries 4",
        "CONFIG SET hash-max-ziplist-value 8",
        "CONFIG SET set-max-intset-entries 3",
        "CONFIG SET zset-max-ziplist-entries 3",
        "CONFIG SET zset-max-listpack-value 1k",
        "CONFIG SET zset-max-listpack-value 5",
        "CONFIG GET hash-max-listpack-entries", "CONFIG GET hash-max-ziplist-value",
        "CONFIG GET zset-max-ziplist-entries", "CONFIG GET zset-max-listpack-value",
        "CONFIG GET set-max-intset-entries",
        "CONFIG SET hash-max-listpack-entries -1",
        "CONFIG SET hash-max-listpack-entries abc",
        "CONFIG SET hash-max-listpack-value -1",
        "CONFIG SET hash-max-listpack-entries 1 hash-max-ziplist-entries 2",
        "CONFIG GET hash-max-listpack-entries",
        // Hashes: 4 fields of 8 bytes.
        "HSET h f0 v0 f1 v1 f2 v2 f3 v3",
        "OBJECT ENCODING h",
        "HSET h f4 v4",
        "OBJECT ENCODING h",
        "HSET hv f0 12345678",
        "OBJECT ENCODING hv",
        "HSET hv f1 123456789",
        "OBJECT ENCODING hv",
        "HMGET hv f0 f1",
        // Sets: 3 integers.
        "SADD s 1 2 3",
        "OBJECT ENCODING s",
        "SADD s 4",
        "OBJECT ENCODING s",
        "SMISMEMBER s 1 2 3 4 5",
        // Sorted sets: 3 members of 5 bytes.
        "ZADD z 1 m1 2 m2 3 m3",
        "OBJECT ENCODING z",
        "ZADD z 4 m4",
        "OBJECT ENCODING z",
        "ZADD zl 1 abcde",
        "OBJECT ENCODING zl",
        "ZADD zl 2 abcdef",
        "OBJECT ENCODING zl",
        "ZADD znew 1 a 2 b 3 c 4 d",
        "OBJECT ENCODING znew",
        // A store builds its result for the thresholds in force.
        "ZRANGESTORE zcopy z 0 1",
        "OBJECT ENCODING zcopy",
        "ZUNIONSTORE zcopy 1 z",
        "OBJECT ENCODING zcopy",
        // Raising the limits does not convert anything back.
        "CONFIG SET hash-max-listpack-entries 512 zset-max-listpack-entries 128",
        "HDEL h f4 f3",
        "OBJECT ENCODING h",
        "ZREM z m4",
        "OBJECT ENCODING z",
        // Zero: the first element already converts.
        "CONFIG SET hash-max-listpack-entries 0 zset-max-listpack-entries 0 set-max-intset-entries 0",
        "HSET h0 f v",
        "OBJECT ENCODING h0",
        "ZADD z0 1 a",
        "OBJECT ENCODING z0",
        "SADD s0 1",
        "OBJECT ENCODING s0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for key in ["h", "hv"] {
        lines.extend(hash_reads(key));
    }
    lines.extend(zset_reads("z"));
    assert_same_as_redis("CONFIG SET thresholds", &lines);
}

/// Ferrite keeps small sets of strings packed (Redis 7.2's `set-max-listpack-*`), reporting them
/// as Redis 7.0 does; the data must not change when one becomes a table.
#[test]
fn packed_string_sets_convert_and_keep_their_members() {
    if common::against_redis() {
        return; // Redis 7.0 has no set-max-listpack-* parameters.
    }
    let s = Server::start(2);
    let mut c = s.client();
    check(
        &mut c,
        "CONFIG GET set-max-listpack-*",
        &[
            "set-max-listpack-entries",
            "128",
            "set-max-listpack-value",
            "64",
        ],
    );
    c.setup("CONFIG SET set-max-listpack-entries 4 set-max-listpack-value 3");
    c.setup("SADD s 1 2 abc");
    assert_eq!(c.line("OBJECT ENCODING s"), Reply::bulk("hashtable"));
    assert_eq!(c.line("SADD s abc 3"), Reply::int(1));
    assert_eq!(c.line("SADD s abcd"), Reply::int(1));
    assert_eq!(c.line("SADD s x y"), Reply::int(2));
    let mut members = c.line("SMEMBERS s").strings();
    members.sort();
    assert_eq!(members, ["1", "2", "3", "abc", "abcd", "x", "y"]);
    assert_eq!(c.line("SREM s 1 abcd nosuch"), Reply::int(2));
    assert_eq!(c.line("SCARD s"), Reply::int(5));
    // SPOP and SRANDMEMBER reach every member of a packed set.
    c.setup("SADD p a b c");
    let mut popped: Vec<String> = (0..3).map(|_| c.line("SPOP p").text()).collect();
    popped.sort();
    assert_eq!(popped, ["a", "b", "c"]);
    assert_eq!(c.line("EXISTS p"), Reply::int(0));
}

fn check(c: &mut common::Client, line: &str, want: &[&str]) {
    assert_eq!(c.line(line).strings(), want, "{line}");
}

/// The `[encodings]` section of the configuration file sets the thresholds at start.
#[test]
fn thresholds_come_from_the_configuration_file() {
    if common::against_redis() {
        return;
    }
    let path = common::config_file(
        "[encodings]\nhash_max_listpack_entries = 2\nzset_max_listpack_value = 3\n",
    );
    let s = Server::start_configured(1, &path);
    let mut c = s.client();
    check(
        &mut c,
        "CONFIG GET hash-max-listpack-entries",
        &["hash-max-listpack-entries", "2"],
    );
    check(
        &mut c,
        "CONFIG GET zset-max-ziplist-value",
        &["zset-max-ziplist-value", "3"],
    );
    c.setup("HSET h a 1 b 2");
    assert_eq!(c.line("OBJECT ENCODING h"), Reply::bulk("listpack"));
    c.setup("HSET h c 3");
    assert_eq!(c.line("OBJECT ENCODING h"), Reply::bulk("hashtable"));
    c.setup("ZADD z 1 abcd");
    assert_eq!(c.line("OBJECT ENCODING z"), Reply::bulk("skiplist"));
}
