//! Stream commands against the real `ferrite` binary with four shards: every command with its
//! options and error texts, RESP3 reply shapes, XREAD across shards, consumer groups, and a
//! differential run against Debian's redis-server 7.0.
//!
//! Replies that carry wall-clock times (auto IDs, idle times, delivery and seen times) are
//! checked for shape here, and kept out of the differential scripts, or pinned with XCLAIM's
//! TIME option.

#[macro_use]
mod common;

use common::{against_redis, scratch_dir, Reply, Server, SPREAD_KEYS};

/// Scripts run on both servers, reply for reply, in RESP2 and RESP3.
const DIFF_LINES: &[&str] = &[
    "XADD s 1-1 a 1 b 2",
    "XADD s 1-1 a 1",
    "XADD s 1-0 a 1",
    "XADD s 1-* c 3",
    "XADD s 2 d 4",
    "XADD s 5-0 a 1 b 2",
    "XADD s 0-0 a 1",
    "XADD s 0-* a 1",
    "XADD s 6-0 a",
    "XADD s 6-0",
    "XADD s abc a 1",
    "XADD s 6-x a 1",
    "XADD s -1 a 1",
    "XADD s 18446744073709551616-0 a 1",
    "XADD nope NOMKSTREAM 1-0 a 1",
    "EXISTS nope",
    "XADD s MAXLEN 2 LIMIT 5 9-0 a 1",
    "XADD s MAXLEN -1 9-0 a 1",
    "XADD s MAXLEN x 9-0 a 1",
    "XADD s MAXLEN 1 MINID 1 9-0 a 1",
    "XADD s LIMIT 5 9-0 a 1",
    "XADD s MINID bad 9-0 a 1",
    "XLEN s",
    "XLEN nope",
    "XRANGE s - +",
    "XRANGE s - + COUNT 2",
    "XRANGE s - + COUNT 0",
    "XRANGE s - + COUNT -3",
    "XRANGE s (1-1 +",
    "XRANGE s 1 1",
    "XRANGE s (1-0 (5-0",
    "XRANGE s 2 1",
    "XRANGE s - + COUNT",
    "XRANGE s - + FOO 1",
    "XRANGE s x +",
    "XRANGE s (- +",
    "XRANGE s - (0-0",
    "XRANGE s (18446744073709551615-18446744073709551615 +",
    "XRANGE nope - +",
    "XREVRANGE s + -",
    "XREVRANGE s + - COUNT 1",
    "XREVRANGE s (5-0 -",
    "XDEL s 2-0 77-0",
    "XDEL s bad",
    "XDEL nope 1-0",
    "XINFO STREAM s",
    "XTRIM s MAXLEN 2",
    "XTRIM s",
    "XTRIM s MINID",
    "XTRIM s FOO 1",
    "XTRIM s MAXLEN 1 LIMIT 1",
    "XTRIM s MAXLEN ~ 0 LIMIT 1",
    "XTRIM nope MAXLEN 0",
    "XRANGE s - +",
    "XADD s 7-0 a 1",
    "XTRIM s MINID 6",
    "XRANGE s - +",
    "XINFO STREAM s",
    "XINFO STREAM s FULL",
    "XINFO STREAM s FULL COUNT 1",
    "XINFO STREAM s FULL COUNT",
    "XINFO STREAM s FOO",
    "XINFO STREAM nope",
    "XINFO GROUPS s",
    "XINFO HELP",
    "XINFO FOO s",
    "SET str v",
    "XADD str 1-0 a 1",
    "XRANGE str - +",
    "XLEN str",
    "XINFO STREAM str",
    "XREAD STREAMS str 0",
    "TYPE s",
    "OBJECT ENCODING s",
    // Big streams: node cuts, approximate trimming, radix tree sizes.
    "XADD big 1-0 f v",
    "XSETID big 1-0",
    "XREAD COUNT 2 STREAMS s big 0-0 0",
    "XREAD STREAMS s big $ $",
    "XREAD STREAMS s big 7-0 0",
    "XREAD COUNT 1 BLOCK 10 STREAMS s 0",
    "XREAD BLOCK -1 STREAMS s 0",
    "XREAD BLOCK x STREAMS s 0",
    "XREAD STREAMS s",
    "XREAD STREAMS s nope 0",
    "XREAD COUNT 1",
    "XREAD GROUP g c STREAMS s 0",
    "XREAD NOACK STREAMS s 0",
    "XREAD STREAMS s >",
    "XREAD STREAMS s bad",
    "XREAD FOO STREAMS s 0",
    "XREAD STREAMS nope1 nope2 0 0",
    // Consumer groups.
    "XGROUP CREATE s g 0",
    "XGROUP CREATE s g 0",
    "XGROUP CREATE nope g 0",
    "XGROUP CREATE nope g $ MKSTREAM",
    "XINFO STREAM nope FULL",
    "XGROUP CREATE s g2 $ ENTRIESREAD 1",
    "XGROUP CREATE s g3 1-0 ENTRIESREAD -2",
    "XGROUP CREATE s g3 1-0 FOO",
    "XGROUP CREATE s g3 bad",
    "XGROUP SETID s g2 0 ENTRIESREAD 0",
    "XGROUP SETID s nog 0",
    "XGROUP SETID s g2 0 FOO 1",
    "XINFO GROUPS s",
    "XINFO STREAM s FULL",
    "XGROUP CREATECONSUMER s nog c",
    "XGROUP DELCONSUMER s g nobody",
    "XGROUP DESTROY s g3",
    "XGROUP DESTROY nope2 g",
    "XGROUP HELP",
    "XGROUP FOO",
    "XGROUP CREATE s",
    "XREADGROUP GROUP g c COUNT 2 STREAMS s >",
    "XREADGROUP GROUP g c STREAMS s $",
    "XREADGROUP GROUP nog c STREAMS s >",
    "XREADGROUP GROUP g c STREAMS s",
    "XREADGROUP COUNT 1 STREAMS s >",
    "XREADGROUP GROUP g c STREAMS nope9 >",
    "XACK s g 1-1 99-0",
    "XACK s g bad",
    "XACK s nog 1-0",
    "XACK nope9 g 1-0",
    "XPENDING s g",
    "XPENDING s nog",
    "XPENDING s g - + 10 x",
    "XPENDING s g - + x",
    "XPENDING s g IDLE x - + 10",
    "XPENDING s g - +",
    "XPENDING s g (5-0 + 0",
    "XCLAIM s g c2 0 1-2 TIME 1000",
    "XCLAIM s g c2 0 1-2 TIME 1000 JUSTID RETRYCOUNT 7",
    "XCLAIM s nog c2 0 1-2",
    "XCLAIM s g c2 x 1-2",
    "XCLAIM s g c2 0 1-2 FOO",
    "XCLAIM s g c2 0 1-2 IDLE x",
    "XCLAIM s g c3 0 99-0 FORCE JUSTID",
    "XPENDING s g",
    "XREADGROUP GROUP g c2 STREAMS s 0",
    "XDEL s 1-2",
    "XREADGROUP GROUP g c2 STREAMS s 0",
    "XAUTOCLAIM s g c3 0 0 COUNT 0",
    "XAUTOCLAIM s g c3 0 0 FOO",
    "XAUTOCLAIM s nog c3 0 0",
    "XAUTOCLAIM s g c3 x 0",
    "XAUTOCLAIM s g c3 0 0 JUSTID COUNT 1",
    "XPENDING s g",
    "XREADGROUP GROUP g c NOACK STREAMS s >",
    "XREADGROUP GROUP g c STREAMS s >",
    "XGROUP DELCONSUMER s g c3",
    "XGROUP DELCONSUMER s g c2",
    "XGROUP DELCONSUMER s g c",
    "XINFO STREAM s FULL",
    "XINFO GROUPS s",
    "XSETID s 1-0",
    "XSETID s 100-0 ENTRIESADDED 1",
    "XSETID s 100-0 ENTRIESADDED 50 MAXDELETEDID 20-0",
    "XSETID s 100-0 MAXDELETEDID 200-0",
    "XSETID s 100-0 FOO",
    "XSETID nope9 100-0",
    "XINFO STREAM s",
    "XINFO GROUPS s",
    "XADD s 100-* x 1",
    "XSETID s 100-18446744073709551615",
    "XADD s 100-* x 1",
    "XSETID s 18446744073709551615-18446744073709551615",
    "XADD s 1-0 x 1",
];

/// Group counters (entries-read, lag) around deletions, trims and SETID, claims with LASTID,
/// and reads of several streams by one group.
const GROUP_LINES: &[&str] = &[
    "XADD q 1-0 a 1",
    "XADD q 2-0 a 2",
    "XADD q 3-0 a 3",
    "XADD q 4-0 a 4",
    "XGROUP CREATE q g 0",
    "XGROUP CREATE q mid 2-0",
    "XGROUP CREATE q end $",
    "XGROUP CREATE q known 2-0 ENTRIESREAD 2",
    "XINFO GROUPS q",
    "XDEL q 1-0",
    "XINFO GROUPS q",
    "XDEL q 3-0",
    "XINFO GROUPS q",
    "XREADGROUP GROUP g c COUNT 1 STREAMS q >",
    "XINFO GROUPS q",
    "XREADGROUP GROUP mid c STREAMS q >",
    "XINFO GROUPS q",
    "XADD q 5-0 a 5",
    "XREADGROUP GROUP known c STREAMS q >",
    "XINFO GROUPS q",
    "XTRIM q MAXLEN 1",
    "XINFO GROUPS q",
    "XINFO STREAM q",
    "XGROUP SETID q g 4-0",
    "XGROUP SETID q mid $ ENTRIESREAD 3",
    "XGROUP SETID q known - ENTRIESREAD -1",
    "XGROUP SETID q known (1",
    "XINFO GROUPS q",
    "XCLAIM q g c2 0 5-0 FORCE JUSTID LASTID 9-0",
    "XCLAIM q g c2 0 5-0 LASTID bad",
    "XINFO GROUPS q",
    "XPENDING q g",
    "XPENDING q g - + 5 nobody",
    "XGROUP CREATECONSUMER q g c3",
    "XINFO GROUPS q",
    "XADD r 1-0 b 1",
    "XGROUP CREATE r g 0",
    "XREADGROUP GROUP g c STREAMS q r > >",
    "XREADGROUP GROUP g c STREAMS q r 0 0",
    "XREADGROUP GROUP g c NOACK STREAMS q r > >",
    "XADD r 2-0 b 2",
    "XREADGROUP GROUP g c NOACK STREAMS q r > >",
    "XPENDING r g",
    "XACK r g 1-0 2-0",
    "XDEL q 5-0",
    "XINFO STREAM q",
    "XINFO GROUPS q",
    "XADD q MINID = 6 6-0 a 6",
    "XSETID q 6-0 ENTRIESADDED 10 MAXDELETEDID 5-0",
    "XINFO STREAM q",
    "XINFO GROUPS q",
    "XGROUP CREATE e g $ MKSTREAM",
    "XSETID e 10-0",
    "XINFO STREAM e",
    "XREAD STREAMS e 0",
    "XRANGE e - +",
    "XINFO GROUPS e",
    "XREADGROUP GROUP g c STREAMS e >",
    "XADD e 11-0 z 1",
    "XINFO GROUPS e",
    "XGROUP DESTROY e g",
    "XINFO STREAM e",
    // Which error wins when several arguments are wrong.
    "SET str v",
    "XADD k 1-0 a 1",
    "XACK k nog bad",
    "XACK nokey g bad",
    "XGROUP CREATE k g 0",
    "XACK k g bad",
    "XCLAIM k nog c 0 bad",
    "XCLAIM k g c x bad",
    "XCLAIM k g c 0 bad",
    "XCLAIM k g c 0 1-0 RETRYCOUNT x",
    "XCLAIM k g c 0 1-0 TIME x",
    "XAUTOCLAIM k g c 0 bad",
    "XAUTOCLAIM k nog c x 0",
    "XAUTOCLAIM k g c 0 0 COUNT 4611686018427387904",
    "XPENDING k g bad + 10",
    "XPENDING k nog bad + 10",
    "XPENDING k g - + 10 c extra",
    "XPENDING k g - + 10 c extra more",
    "XPENDING k g IDLE 5 - + 10 c",
    "XPENDING k g IDLE 5 - +",
    "XGROUP CREATE k g2 0 ENTRIESREAD 5 MKSTREAM extra",
    "XGROUP SETID k g 0 ENTRIESREAD",
    "XGROUP SETID k g 0 ENTRIESREAD x",
    "XGROUP CREATECONSUMER k g c",
    "XGROUP CREATECONSUMER k nog c",
    "XGROUP DELCONSUMER nokey g c",
    "XGROUP CREATE str g 0",
    "XINFO CONSUMERS k nog",
    "XINFO CONSUMERS nokey g",
    "XINFO GROUPS str",
    "XGROUP CREATE k g3 0 ENTRIESREAD 1 ENTRIESREAD 2 MKSTREAM",
    "XGROUP CREATE nokey2 g3 0 ENTRIESREAD 1 ENTRIESREAD 2 MKSTREAM",
    "XGROUP CREATE nokey3 g3 0 ENTRIESREAD 1 ENTRIESREAD 2",
    "XINFO GROUPS k",
    "XREADGROUP GROUP g c COUNT x STREAMS k >",
    "XREADGROUP GROUP g c STREAMS k str > >",
    "XREAD STREAMS k str 0 0",
    "COMMAND GETKEYS XREAD COUNT 1 STREAMS a b 0 0",
    "COMMAND GETKEYS XREADGROUP GROUP g c STREAMS a >",
    "COMMAND GETKEYS XADD s * f v",
    "COMMAND GETKEYS XINFO STREAM s",
    "COMMAND GETKEYS XGROUP CREATE s g 0",
];

#[test]
fn group_counters_match_redis_server() {
    common::assert_matches_redis(GROUP_LINES);
}

#[test]
fn matches_redis_server_in_resp2_and_resp3() {
    common::assert_matches_redis(DIFF_LINES);
}

/// Long streams through redis-server and Ferrite: node cuts (100 entries, 4 KB), approximate
/// trimming by whole nodes, radix tree sizes, and group lag around deletions.
#[test]
fn long_streams_match_redis_server() {
    let mut lines: Vec<String> = Vec::new();
    for i in 1..=250 {
        let value = "v".repeat((i * 37) % 300);
        lines.push(format!("XADD big {i}-0 f{} {value} n {i}", i % 3));
        if i % 50 == 0 {
            lines.push("XINFO STREAM big".into());
        }
    }
    lines.extend(
        [
            "XGROUP CREATE big g 0",
            "XGROUP CREATE big late 200-0",
            "XREADGROUP GROUP g c COUNT 3 STREAMS big >",
            "XINFO GROUPS big",
            "XDEL big 2-0 150-0",
            "XINFO GROUPS big",
            "XREADGROUP GROUP g c COUNT 2 STREAMS big >",
            "XINFO GROUPS big",
            "XTRIM big MAXLEN ~ 200",
            "XINFO STREAM big",
            "XTRIM big MINID ~ 120",
            "XINFO STREAM big",
            "XTRIM big MAXLEN ~ 10 LIMIT 30",
            "XINFO STREAM big",
            "XTRIM big MINID 130-5",
            "XINFO STREAM big",
            "XINFO GROUPS big",
            "XADD big MAXLEN ~ 50 300-0 a 1",
            "XINFO STREAM big",
            "XADD big MAXLEN = 5 301-0 a 1",
            "XRANGE big - +",
            "XINFO GROUPS big",
            "XPENDING big g",
            "XAUTOCLAIM big g c2 0 0 COUNT 2 JUSTID",
            "XAUTOCLAIM big g c2 0 0 COUNT 2 JUSTID",
        ]
        .map(String::from),
    );
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let diffs = common::differences_with_redis(&lines, false);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// `[id, [field, value, ...]]`.
fn entry(id: &str, fields: &[&str]) -> Reply {
    Reply::arr(vec![Reply::bulk(id), Reply::bulks(fields)])
}

fn field<'a>(pairs: &'a [(String, Reply)], name: &str) -> &'a Reply {
    &pairs
        .iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no {name} in {pairs:?}"))
        .1
}

#[test]
fn auto_ids_follow_the_clock_and_never_go_back() {
    let s = Server::start(4);
    let mut c = s.client();
    let first = c.line("XADD s * a 1").text();
    let (ms, seq) = first.split_once('-').expect("ms-seq");
    let ms: u64 = ms.parse().expect("ms");
    assert_eq!(seq, "0");
    // An explicit ID in the future: `*` then continues from it.
    let future = ms + 10_000_000;
    check!(
        c,
        &format!("XADD s {future}-5 a 1"),
        Reply::bulk(format!("{future}-5"))
    );
    check!(c, "XADD s * a 1", Reply::bulk(format!("{future}-6")));
    check!(
        c,
        &format!("XADD s {future}-* a 1"),
        Reply::bulk(format!("{future}-7"))
    );
    check!(
        c,
        "XADD s 18446744073709551615-18446744073709551615 a 1",
        Reply::bulk("18446744073709551615-18446744073709551615")
    );
    check!(
        c,
        "XADD s * a 1",
        Reply::err("ERR The stream has exhausted the last possible ID, unable to add more items")
    );
    check!(c, "XLEN s", Reply::int(5));
    check!(
        c,
        "XADD s NOMKSTREAM MAXLEN ~ 1 * a 1",
        Reply::err("ERR The stream has exhausted the last possible ID, unable to add more items")
    );
}

#[test]
fn resp3_shapes_are_maps_where_redis_sends_maps() {
    let s = Server::start(4);
    let mut c = s.client();
    assert!(!c.cmd(&["HELLO", "3"]).is_error());
    check!(c, "XADD s 1-0 a 1", Reply::bulk("1-0"));
    check!(c, "XGROUP CREATE s g 0", Reply::ok());
    let read = c.line("XREAD STREAMS s 0");
    assert_eq!(
        read,
        Reply::Map(vec![(
            Reply::bulk("s"),
            Reply::arr(vec![entry("1-0", &["a", "1"])])
        )])
    );
    check!(c, "XREAD STREAMS s $", Reply::Null);
    let info = c.line("XINFO STREAM s");
    assert!(matches!(info, Reply::Map(_)), "{info:?}");
    let groups = c.line("XINFO GROUPS s");
    assert!(matches!(groups.items()[0], Reply::Map(_)), "{groups:?}");
    check!(
        c,
        "XREADGROUP GROUP g alice STREAMS s >",
        Reply::Map(vec![(
            Reply::bulk("s"),
            Reply::arr(vec![entry("1-0", &["a", "1"])])
        )])
    );
    let consumers = c.line("XINFO CONSUMERS s g");
    let Reply::Map(pairs) = &consumers.items()[0] else {
        panic!("{consumers:?}")
    };
    assert_eq!(pairs[0], (Reply::bulk("name"), Reply::bulk("alice")));
    assert_eq!(pairs[1], (Reply::bulk("pending"), Reply::int(1)));
    check!(
        c,
        "XPENDING s g",
        Reply::arr(vec![
            Reply::int(1),
            Reply::bulk("1-0"),
            Reply::bulk("1-0"),
            Reply::arr(vec![Reply::bulks(&["alice", "1"])])
        ])
    );
    check!(c, "XDEL s 1-0", Reply::int(1));
    // History of a deleted entry: its ID with a null.
    check!(
        c,
        "XREADGROUP GROUP g alice STREAMS s 0",
        Reply::Map(vec![(
            Reply::bulk("s"),
            Reply::arr(vec![Reply::arr(vec![Reply::bulk("1-0"), Reply::Null])])
        )])
    );
    check!(c, "XREADGROUP GROUP g alice STREAMS s >", Reply::Null);
}

#[test]
fn xread_spans_shards_in_one_atomic_reply() {
    let s = Server::start(4);
    let mut c = s.client();
    for (i, k) in SPREAD_KEYS.iter().enumerate() {
        check!(
            c,
            &format!("XADD {k} {}-0 k {k}", i + 1),
            Reply::bulk(format!("{}-0", i + 1))
        );
    }
    let line = format!(
        "XREAD COUNT 1 STREAMS {} {}",
        SPREAD_KEYS.join(" "),
        ["0"; 8].join(" ")
    );
    let reply = c.line(&line);
    let served: Vec<(String, Reply)> = reply
        .items()
        .iter()
        .map(|pair| (pair.items()[0].text(), pair.items()[1].clone()))
        .collect();
    assert_eq!(served.len(), SPREAD_KEYS.len());
    for (i, (k, entries)) in served.iter().enumerate() {
        assert_eq!(k, SPREAD_KEYS[i], "keys in request order");
        assert_eq!(
            *entries,
            Reply::arr(vec![entry(&format!("{}-0", i + 1), &["k", k])])
        );
    }
    // Only the streams with something new answer; none at all is a null array.
    check!(c, "XREAD STREAMS a h 1-0 8-0", Reply::NilArray);
    check!(
        c,
        "XREAD STREAMS a h 0 8-0",
        Reply::arr(vec![Reply::arr(vec![
            Reply::bulk("a"),
            Reply::arr(vec![entry("1-0", &["k", "a"])])
        ])])
    );
    // Groups on streams of several shards: XREADGROUP moves every group at once.
    for k in ["a", "b", "c"] {
        check!(c, &format!("XGROUP CREATE {k} g 0"), Reply::ok());
    }
    let reply = c.line("XREADGROUP GROUP g cons STREAMS a b c > > >");
    assert_eq!(reply.items().len(), 3);
    for k in ["a", "b", "c"] {
        assert_eq!(c.line(&format!("XPENDING {k} g")).items()[0], Reply::int(1));
    }
    check!(
        c,
        "XREADGROUP GROUP g cons STREAMS a b nokey > > >",
        Reply::err(
            "NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option"
        )
    );
    check!(
        c,
        "XREADGROUP GROUP g cons STREAMS a b > >",
        Reply::NilArray
    );
    check!(c, "XADD b 100-0 k new", Reply::bulk("100-0"));
    check!(
        c,
        "XREADGROUP GROUP g cons STREAMS a b > >",
        Reply::arr(vec![Reply::arr(vec![
            Reply::bulk("b"),
            Reply::arr(vec![entry("100-0", &["k", "new"])])
        ])])
    );
}

#[test]
fn block_is_checked_and_answers_a_timeout_when_nothing_is_ready() {
    let s = Server::start(2);
    let mut c = s.client();
    check!(
        c,
        "XREAD BLOCK -5 STREAMS s 0",
        Reply::err("ERR timeout is negative")
    );
    check!(
        c,
        "XREAD BLOCK 1.5 STREAMS s 0",
        Reply::err("ERR timeout is not an integer or out of range")
    );
    check!(c, "XREAD BLOCK 50 STREAMS s $", Reply::NilArray);
    check!(c, "XADD s 1-0 a 1", Reply::bulk("1-0"));
    check!(
        c,
        "XREAD BLOCK 0 STREAMS s 0",
        Reply::arr(vec![Reply::arr(vec![
            Reply::bulk("s"),
            Reply::arr(vec![entry("1-0", &["a", "1"])])
        ])])
    );
    check!(c, "XGROUP CREATE s g $", Reply::ok());
    check!(
        c,
        "XREADGROUP GROUP g c BLOCK 100 STREAMS s >",
        Reply::NilArray
    );
    check!(
        c,
        "XREADGROUP GROUP g c BLOCK x STREAMS s >",
        Reply::err("ERR timeout is not an integer or out of range")
    );
}

fn blocked_clients(s: &Server) -> i64 {
    s.info_field("clients", "blocked_clients")
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

/// Sends `line` on a new client and waits (bounded) until the server counts it blocked.
fn blocked(s: &Server, line: &str) -> common::Client {
    let before = blocked_clients(s);
    let mut c = s.client();
    c.send(&common::split_line(line));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while blocked_clients(s) != before + 1 {
        assert!(std::time::Instant::now() < deadline, "{line} did not block");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    c
}

#[test]
fn xread_block_waits_for_new_entries_on_any_shard() {
    let s = Server::start(4);
    let mut o = s.client();
    check!(o, "XADD s 1-0 a 1", Reply::bulk("1-0"));
    // `$` is the last entry when it blocked: only what comes after is served.
    let mut reader = blocked(&s, "XREAD BLOCK 0 STREAMS s $");
    check!(o, "XADD s 2-0 b 2", Reply::bulk("2-0"));
    assert_eq!(
        reader.read(),
        Reply::arr(vec![Reply::arr(vec![
            Reply::bulk("s"),
            Reply::arr(vec![entry("2-0", &["b", "2"])])
        ])])
    );
    // Streams on several shards: an entry on any of them wakes the reader.
    let keys = SPREAD_KEYS;
    let line = format!(
        "XREAD COUNT 5 BLOCK 0 STREAMS {} {} {} $ $ $",
        keys[0], keys[1], keys[2]
    );
    let mut reader = blocked(&s, &line);
    check!(o, &format!("XADD {} 7-0 f v", keys[2]), Reply::bulk("7-0"));
    assert_eq!(
        reader.read(),
        Reply::arr(vec![Reply::arr(vec![
            Reply::bulk(keys[2]),
            Reply::arr(vec![entry("7-0", &["f", "v"])])
        ])])
    );
    // A group reader with `>` waits too, and the entry becomes pending for it.
    check!(o, "XGROUP CREATE s g $", Reply::ok());
    let mut member = blocked(&s, "XREADGROUP GROUP g alice BLOCK 0 STREAMS s >");
    check!(o, "XADD s 3-0 c 3", Reply::bulk("3-0"));
    assert_eq!(
        member.read(),
        Reply::arr(vec![Reply::arr(vec![
            Reply::bulk("s"),
            Reply::arr(vec![entry("3-0", &["c", "3"])])
        ])])
    );
    let pending = o.line("XPENDING s g - + 10 alice");
    assert_eq!(pending.items().len(), 1, "{pending:?}");
    // Inside MULTI nothing waits.
    check!(o, "MULTI", Reply::ok());
    check!(o, "XREAD BLOCK 0 STREAMS s $", Reply::status("QUEUED"));
    check!(o, "EXEC", Reply::arr(vec![Reply::NilArray]));
}

#[test]
fn idle_times_claims_and_consumers() {
    let s = Server::start(4);
    let mut c = s.client();
    for i in 1..=4 {
        check!(
            c,
            &format!("XADD s {i}-0 n {i}"),
            Reply::bulk(format!("{i}-0"))
        );
    }
    check!(c, "XGROUP CREATE s g 0", Reply::ok());
    check!(c, "XGROUP CREATECONSUMER s g bob", Reply::int(1));
    check!(c, "XGROUP CREATECONSUMER s g bob", Reply::int(0));
    c.line("XREADGROUP GROUP g alice COUNT 3 STREAMS s >");
    // Delivered long ago (TIME 1) versus just now: IDLE filters, min-idle-time guards claims.
    check!(
        c,
        "XCLAIM s g alice 0 1-0 TIME 1 JUSTID",
        Reply::arr(vec![Reply::bulk("1-0")])
    );
    let pending = c.line("XPENDING s g IDLE 1000000 - + 10");
    assert_eq!(pending.items().len(), 1, "{pending:?}");
    assert_eq!(pending.items()[0].items()[0], Reply::bulk("1-0"));
    check!(c, "XCLAIM s g bob 1000000 2-0 3-0", Reply::arr(vec![]));
    check!(
        c,
        "XCLAIM s g bob 1000000 1-0",
        Reply::arr(vec![entry("1-0", &["n", "1"])])
    );
    let bobs = c.line("XPENDING s g - + 10 bob");
    assert_eq!(bobs.items().len(), 1, "{bobs:?}");
    assert_eq!(bobs.items()[0].items()[1], Reply::bulk("bob"));
    assert_eq!(bobs.items()[0].items()[3], Reply::int(2), "delivered twice");
    // XAUTOCLAIM walks the PEL with a cursor; deleted entries come back in the third part.
    check!(c, "XDEL s 2-0", Reply::int(1));
    check!(
        c,
        "XAUTOCLAIM s g carol 0 0 COUNT 1",
        Reply::arr(vec![
            Reply::bulk("2-0"),
            Reply::arr(vec![entry("1-0", &["n", "1"])]),
            Reply::arr(vec![])
        ])
    );
    check!(
        c,
        "XAUTOCLAIM s g carol 0 2-0 COUNT 5 JUSTID",
        Reply::arr(vec![
            Reply::bulk("0-0"),
            Reply::bulks(&["3-0"]),
            Reply::bulks(&["2-0"])
        ])
    );
    let consumers = c.line("XINFO CONSUMERS s g");
    let names: Vec<String> = consumers
        .items()
        .iter()
        .map(|m| field(&m.pairs(), "name").text())
        .collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
    let carol = consumers.items()[2].pairs();
    assert_eq!(*field(&carol, "pending"), Reply::int(2));
    assert!(field(&carol, "idle").as_int() >= 0);
    check!(c, "XGROUP DELCONSUMER s g carol", Reply::int(2));
    check!(
        c,
        "XPENDING s g",
        Reply::arr(vec![
            Reply::int(0),
            Reply::nil(),
            Reply::nil(),
            Reply::NilArray
        ])
    );
    let full = c.line("XINFO STREAM s FULL");
    let groups = field(&full.pairs(), "groups").clone();
    let g = groups.items()[0].pairs();
    assert_eq!(*field(&g, "entries-read"), Reply::int(3));
    assert_eq!(*field(&g, "lag"), Reply::int(1));
}

/// SAVE, then a restart on another shard count: every stream comes back whole, and its groups
/// carry on where they were (next delivery, pending entries, claims).
#[test]
fn save_and_restart_on_another_shard_count_keeps_groups_going() {
    if against_redis() {
        return;
    }
    let data = scratch_dir();
    let conf = common::config_file(&format!("[persistence]\ndir = \"{}\"\n", data.display()));
    let s = Server::start_configured(4, &conf);
    let mut c = s.client();
    for k in SPREAD_KEYS {
        for i in 1..=150 {
            c.line(&format!("XADD {k} {i}-0 n {i} key {k}"));
        }
        check!(c, &format!("XDEL {k} 7-0"), Reply::int(1));
        check!(c, &format!("XGROUP CREATE {k} g 0"), Reply::ok());
        let read = c.line(&format!("XREADGROUP GROUP g alice COUNT 10 STREAMS {k} >"));
        assert_eq!(read.items()[0].items()[1].items().len(), 10);
    }
    let before: Vec<Reply> = SPREAD_KEYS
        .iter()
        .map(|k| c.line(&format!("XINFO STREAM {k} FULL COUNT 0")))
        .collect();
    check!(c, "SAVE", Reply::ok());
    drop(c);
    drop(s);

    let s = Server::start_configured(1, &conf);
    let mut c = s.client();
    for (k, want) in SPREAD_KEYS.iter().zip(&before) {
        assert_eq!(
            c.line(&format!("XINFO STREAM {k} FULL COUNT 0")),
            *want,
            "{k}"
        );
        // The next delivery follows the last one, the pending ones are still alice's.
        check!(
            c,
            &format!("XREADGROUP GROUP g bob COUNT 1 STREAMS {k} >"),
            Reply::arr(vec![Reply::arr(vec![
                Reply::bulk(*k),
                Reply::arr(vec![entry("12-0", &["n", "12", "key", k])])
            ])])
        );
        check!(
            c,
            &format!("XPENDING {k} g"),
            Reply::arr(vec![
                Reply::int(11),
                Reply::bulk("1-0"),
                Reply::bulk("12-0"),
                Reply::arr(vec![
                    Reply::bulks(&["alice", "10"]),
                    Reply::bulks(&["bob", "1"])
                ])
            ])
        );
        check!(c, &format!("XADD {k} 151-0 n 151"), Reply::bulk("151-0"));
        check!(c, &format!("XLEN {k}"), Reply::int(150));
    }
}

/// Streams in transactions and under generic key commands: MULTI/EXEC across shards, WATCH
/// broken by XADD, COPY, RENAME and EXPIRE keep the whole stream.
#[test]
fn transactions_and_key_commands_carry_streams() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "MULTI", Reply::ok());
    check!(c, "XADD a 1-0 f a", Reply::status("QUEUED"));
    check!(c, "XADD h 1-0 f h", Reply::status("QUEUED"));
    check!(c, "XREAD STREAMS a h 0 0", Reply::status("QUEUED"));
    let exec = c.line("EXEC");
    assert_eq!(exec.items().len(), 3, "{exec:?}");
    assert_eq!(
        exec.items()[2].items().len(),
        2,
        "both streams read: {exec:?}"
    );
    check!(c, "WATCH a", Reply::ok());
    let mut other = s.client();
    check!(other, "XADD a 2-0 f a", Reply::bulk("2-0"));
    check!(c, "MULTI", Reply::ok());
    check!(c, "XLEN a", Reply::status("QUEUED"));
    check!(c, "EXEC", Reply::NilArray);
    check!(c, "XGROUP CREATE a g 0", Reply::ok());
    c.line("XREADGROUP GROUP g alice STREAMS a >");
    let full = c.line("XINFO STREAM a FULL");
    check!(c, "COPY a b", Reply::int(1));
    assert_eq!(c.line("XINFO STREAM b FULL"), full);
    check!(c, "RENAME b e", Reply::ok());
    assert_eq!(c.line("XINFO STREAM e FULL"), full);
    check!(c, "TYPE e", Reply::status("stream"));
    check!(c, "EXPIRE e 100", Reply::int(1));
    check!(c, "XADD e 3-0 f e", Reply::bulk("3-0"));
    assert!(c.line("TTL e").as_int() > 0, "XADD keeps the TTL");
}
