//! Blocking commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX BZMPOP) through the
//! real binary with 4 shards: waiting clients are served in arrival order, keys on several
//! shards wake a client from any of them, timeouts reply nil, a waiting client takes no other
//! request, a client that leaves while waiting takes nothing with it, and inside MULTI nothing
//! waits. `FERRITE_IT_TARGET=redis` runs the same expectations against redis-server.

mod common;

use std::time::{Duration, Instant};

use common::{Client, Reply, Server, SPREAD_KEYS};

fn blocked_clients(s: &Server) -> i64 {
    s.info_field("clients", "blocked_clients")
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

/// Waits (bounded) until the server reports `n` blocked clients.
fn wait_blocked(s: &Server, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while blocked_clients(s) != n {
        assert!(
            Instant::now() < deadline,
            "blocked_clients stayed {} instead of {n}",
            blocked_clients(s)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A client that sent `args` and is now blocked (the server counts it).
fn blocked(s: &Server, args: &[&str]) -> Client {
    let before = blocked_clients(s);
    let mut c = s.client();
    c.send(args);
    wait_blocked(s, before + 1);
    c
}

#[test]
fn waiting_clients_are_served_in_arrival_order() {
    let s = Server::start(4);
    let mut waiting: Vec<Client> = (0..3).map(|_| blocked(&s, &["BLPOP", "q", "0"])).collect();
    // One element wakes one client: the first that blocked.
    assert_eq!(s.client().cmd(&["RPUSH", "q", "a"]), Reply::int(1));
    assert_eq!(waiting[0].read(), Reply::bulks(&["q", "a"]));
    wait_blocked(&s, 2);
    assert_eq!(s.client().cmd(&["RPUSH", "q", "b", "c"]), Reply::int(2));
    assert_eq!(waiting[1].read(), Reply::bulks(&["q", "b"]));
    assert_eq!(waiting[2].read(), Reply::bulks(&["q", "c"]));
    wait_blocked(&s, 0);
    assert_eq!(s.client().cmd(&["EXISTS", "q"]), Reply::int(0));
    // The same client goes on normally afterwards.
    assert_eq!(waiting[0].cmd(&["PING"]), Reply::status("PONG"));
    waiting.clear();
}

#[test]
fn data_already_there_is_served_at_once_in_key_order() {
    let s = Server::start(4);
    let mut c = s.client();
    c.cmd(&["RPUSH", SPREAD_KEYS[2], "x", "y"]);
    c.cmd(&["RPUSH", SPREAD_KEYS[3], "z"]);
    let reply = c.cmd(&["BRPOP", SPREAD_KEYS[0], SPREAD_KEYS[3], SPREAD_KEYS[2], "0"]);
    assert_eq!(reply, Reply::bulks(&[SPREAD_KEYS[3], "z"]));
    let reply = c.cmd(&["BLPOP", SPREAD_KEYS[1], SPREAD_KEYS[2], "0"]);
    assert_eq!(reply, Reply::bulks(&[SPREAD_KEYS[2], "x"]));
    c.cmd(&["ZADD", "z", "1", "one", "2", "two", "3", "three"]);
    let min = c.cmd(&["BZPOPMIN", "nothing", "z", "0"]);
    assert_eq!(min, Reply::bulks(&["z", "one", "1"]));
    let max = c.cmd(&["BZPOPMAX", "z", "0"]);
    assert_eq!(max, Reply::bulks(&["z", "three", "3"]));
}

#[test]
fn a_push_on_any_shard_wakes_a_client_waiting_on_keys_of_several_shards() {
    let s = Server::start(4);
    for (i, key) in SPREAD_KEYS[..4].iter().enumerate() {
        let value = format!("v{i}");
        let mut c = blocked(
            &s,
            &[
                "BRPOP",
                SPREAD_KEYS[0],
                SPREAD_KEYS[1],
                SPREAD_KEYS[2],
                SPREAD_KEYS[3],
                "0",
            ],
        );
        assert_eq!(s.client().cmd(&["LPUSH", key, &value]), Reply::int(1));
        assert_eq!(c.read(), Reply::bulks(&[key, &value]));
        wait_blocked(&s, 0);
    }
    // Sorted sets too, with a multi-shard BZMPOP.
    let mut c = blocked(
        &s,
        &[
            "BZMPOP",
            "0",
            "2",
            SPREAD_KEYS[0],
            SPREAD_KEYS[1],
            "MAX",
            "COUNT",
            "2",
        ],
    );
    s.client()
        .cmd(&["ZADD", SPREAD_KEYS[1], "1", "a", "2", "b", "3", "c"]);
    let reply = c.read();
    let items = reply.items();
    assert_eq!(items[0], Reply::bulk(SPREAD_KEYS[1]));
    assert_eq!(
        items[1],
        Reply::Array(vec![Reply::bulks(&["c", "3"]), Reply::bulks(&["b", "2"])])
    );
}

#[test]
fn blmove_waits_for_its_source_and_pushes_to_a_destination_on_another_shard() {
    let s = Server::start(4);
    let (src, dst) = (SPREAD_KEYS[0], SPREAD_KEYS[1]);
    let mut c = blocked(&s, &["BLMOVE", src, dst, "LEFT", "RIGHT", "0"]);
    s.client().cmd(&["RPUSH", src, "m1", "m2"]);
    assert_eq!(c.read(), Reply::bulk("m1"));
    let mut o = s.client();
    assert_eq!(o.cmd(&["LRANGE", dst, "0", "-1"]), Reply::bulks(&["m1"]));
    assert_eq!(o.cmd(&["LRANGE", src, "0", "-1"]), Reply::bulks(&["m2"]));
    // A chain: BRPOPLPUSH into a list another client waits on wakes that client too.
    let mut first = blocked(&s, &["BRPOPLPUSH", "in", "mid", "0"]);
    let mut second = blocked(&s, &["BLPOP", "mid", "0"]);
    o.cmd(&["RPUSH", "in", "job"]);
    assert_eq!(first.read(), Reply::bulk("job"));
    assert_eq!(second.read(), Reply::bulks(&["mid", "job"]));
    assert_eq!(o.cmd(&["EXISTS", "in", "mid"]), Reply::int(0));
}

#[test]
fn blmpop_and_bzpop_wait_then_serve() {
    let s = Server::start(4);
    let mut c = blocked(&s, &["BLMPOP", "0", "2", "l1", "l2", "RIGHT", "COUNT", "5"]);
    s.client().cmd(&["RPUSH", "l2", "a", "b", "c"]);
    assert_eq!(
        c.read(),
        Reply::Array(vec![Reply::bulk("l2"), Reply::bulks(&["c", "b", "a"])])
    );
    let mut c = blocked(&s, &["BZPOPMIN", "zz", "0"]);
    s.client().cmd(&["ZADD", "zz", "5", "five", "4", "four"]);
    assert_eq!(c.read(), Reply::bulks(&["zz", "four", "4"]));
}

#[test]
fn timeouts_reply_nil_in_both_protocols() {
    let s = Server::start(4);
    let mut c = s.client();
    let started = Instant::now();
    assert_eq!(c.cmd(&["BLPOP", "none", "0.2"]), Reply::NilArray);
    assert!(started.elapsed() >= Duration::from_millis(150), "waited");
    // Every blocking command times out with a null array, BLMOVE included (Redis 7.0).
    assert_eq!(
        c.cmd(&["BLMOVE", "none", "x", "LEFT", "LEFT", "0.05"]),
        Reply::NilArray
    );
    assert_eq!(
        c.cmd(&["BRPOP", SPREAD_KEYS[0], SPREAD_KEYS[1], "0.05"]),
        Reply::NilArray,
        "a multi-shard wait times out too"
    );
    assert_eq!(
        c.cmd(&["BZMPOP", "0.05", "1", "none", "MIN"]),
        Reply::NilArray
    );
    assert!(!c.cmd(&["HELLO", "3"]).is_error());
    assert_eq!(c.cmd(&["BZPOPMAX", "none", "0.05"]), Reply::Null);
    assert_eq!(c.cmd(&["BRPOPLPUSH", "none", "x", "0.05"]), Reply::Null);
    wait_blocked(&s, 0);
}

#[test]
fn a_waiting_client_takes_no_other_request_until_served() {
    let s = Server::start(4);
    let mut c = s.client();
    c.send(&["BLPOP", "q", "0"]);
    c.send(&["RPUSH", "q", "mine"]);
    c.send(&["PING"]);
    wait_blocked(&s, 1);
    // Its own RPUSH has not run: the list is still empty.
    assert_eq!(s.client().cmd(&["LLEN", "q"]), Reply::int(0));
    s.client().cmd(&["RPUSH", "q", "theirs"]);
    assert_eq!(c.read(), Reply::bulks(&["q", "theirs"]));
    assert_eq!(c.read(), Reply::int(1));
    assert_eq!(c.read(), Reply::status("PONG"));
}

#[test]
fn a_client_that_leaves_while_waiting_takes_nothing() {
    let s = Server::start(4);
    for keys in [vec!["q"], vec![SPREAD_KEYS[0], SPREAD_KEYS[1]]] {
        let mut args = vec!["BLPOP"];
        args.extend(&keys);
        args.push("0");
        let c = blocked(&s, &args);
        drop(c);
        wait_blocked(&s, 0);
        let mut o = s.client();
        o.cmd(&["RPUSH", keys[0], "kept"]);
        assert_eq!(
            o.cmd(&["LRANGE", keys[0], "0", "-1"]),
            Reply::bulks(&["kept"])
        );
        o.cmd(&["DEL", keys[0]]);
    }
}

#[test]
fn inside_multi_nothing_waits() {
    let s = Server::start(4);
    let mut c = s.client();
    c.cmd(&["MULTI"]);
    c.cmd(&["BLPOP", "none", "0"]);
    c.cmd(&["BZPOPMIN", "none", "0"]);
    c.cmd(&["BLMOVE", "none", "x", "LEFT", "LEFT", "0"]);
    c.cmd(&["RPUSH", "l", "a"]);
    c.cmd(&["BLPOP", "l", "0"]);
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Array(vec![
            Reply::NilArray,
            Reply::NilArray,
            Reply::NilBulk,
            Reply::int(1),
            Reply::bulks(&["l", "a"]),
        ])
    );
}

#[test]
fn many_waiters_on_keys_of_one_or_several_shards_each_get_their_element() {
    let s = Server::start(4);
    // Client i waits on two keys of its own: on two shards for even i, on one for odd i.
    let keys = |i: usize| {
        let second = if i % 2 == 0 { (i + 3) % 8 } else { i % 8 };
        (
            format!("{{{}}}:{i}", SPREAD_KEYS[i % 8]),
            format!("{{{}}}:{i}:b", SPREAD_KEYS[second]),
        )
    };
    let mut waiting: Vec<Client> = (0..16)
        .map(|i| {
            let (k1, k2) = keys(i);
            blocked(&s, &["BLPOP", &k1, &k2, "0"])
        })
        .collect();
    let mut o = s.client();
    for i in (0..16).rev() {
        let (k1, k2) = keys(i);
        let key = if i % 3 == 0 { k1 } else { k2 };
        o.cmd(&["RPUSH", &key, &format!("e{i}")]);
    }
    for (i, c) in waiting.iter_mut().enumerate() {
        assert_eq!(c.read().strings()[1], format!("e{i}"));
    }
    wait_blocked(&s, 0);
    assert_eq!(o.cmd(&["DBSIZE"]), Reply::int(0));
}

#[test]
fn client_unblock_ends_a_wait_with_a_timeout_or_an_error() {
    let s = Server::start(4);
    for (keys, how, expected) in [
        (vec!["q"], "TIMEOUT", Reply::NilArray),
        (
            vec!["q"],
            "ERROR",
            Reply::err("UNBLOCKED client unblocked via CLIENT UNBLOCK"),
        ),
        (
            vec![SPREAD_KEYS[0], SPREAD_KEYS[1]],
            "TIMEOUT",
            Reply::NilArray,
        ),
        (
            vec![SPREAD_KEYS[0], SPREAD_KEYS[1]],
            "ERROR",
            Reply::err("UNBLOCKED client unblocked via CLIENT UNBLOCK"),
        ),
    ] {
        let mut c = s.client();
        let id = c.cmd(&["CLIENT", "ID"]).as_int().to_string();
        let mut args = vec!["BRPOP"];
        args.extend(&keys);
        args.push("0");
        c.send(&args);
        wait_blocked(&s, 1);
        let mut o = s.client();
        assert_eq!(o.cmd(&["CLIENT", "UNBLOCK", &id, how]), Reply::int(1));
        assert_eq!(c.read(), expected, "{keys:?} {how}");
        wait_blocked(&s, 0);
        assert_eq!(
            o.cmd(&["CLIENT", "UNBLOCK", &id]),
            Reply::int(0),
            "not blocked any more"
        );
        assert_eq!(c.cmd(&["PING"]), Reply::status("PONG"));
    }
    let mut o = s.client();
    assert_eq!(
        o.cmd(&["CLIENT", "UNBLOCK", "1", "MAYBE"]),
        Reply::err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    );
}

#[test]
fn producers_and_consumers_across_shards_lose_and_duplicate_nothing() {
    const PRODUCERS: usize = 4;
    const ITEMS: usize = 300;
    let s = Server::start(4);
    // Consumers wait on queues of two shards (parked, re-run on writes) or of one.
    let queues = [SPREAD_KEYS[0], SPREAD_KEYS[1], SPREAD_KEYS[2]];
    // Consumers stop once everything was consumed (or, should something be lost, after a
    // bounded wait: the count below then tells).
    let consumed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(60);
    let consumers: Vec<_> = (0..6)
        .map(|i| {
            let mut c = s.client();
            let consumed = consumed.clone();
            let keys: Vec<&str> = if i % 2 == 0 {
                vec![queues[0], queues[1]]
            } else {
                vec![queues[2]]
            };
            std::thread::spawn(move || {
                let mut got = Vec::new();
                let total = PRODUCERS * ITEMS;
                while consumed.load(std::sync::atomic::Ordering::SeqCst) < total
                    && Instant::now() < deadline
                {
                    let mut args = vec!["BRPOP"];
                    args.extend(&keys);
                    args.push("0.2");
                    if let Reply::Array(items) = c.cmd(&args) {
                        got.push(items[1].text());
                        consumed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                }
                got
            })
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let mut c = s.client();
            std::thread::spawn(move || {
                for i in 0..ITEMS {
                    let q = queues[(p + i) % queues.len()];
                    c.cmd(&["LPUSH", q, &format!("p{p}-{i}")]);
                }
            })
        })
        .collect();
    for p in producers {
        p.join().expect("producer");
    }
    let mut all: Vec<String> = consumers
        .into_iter()
        .flat_map(|c| c.join().expect("consumer"))
        .collect();
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), total, "no element was served twice");
    assert_eq!(total, PRODUCERS * ITEMS, "every element was served");
    assert_eq!(s.client().cmd(&["DBSIZE"]), Reply::int(0));
}

#[test]
fn client_kill_ends_a_blocked_client_at_once() {
    let s = Server::start(4);
    for keys in [vec!["q"], vec![SPREAD_KEYS[0], SPREAD_KEYS[1]]] {
        let mut c = s.client();
        let id = c.cmd(&["CLIENT", "ID"]).as_int().to_string();
        let mut args = vec!["BLPOP"];
        args.extend(&keys);
        args.push("0");
        c.send(&args);
        wait_blocked(&s, 1);
        let mut o = s.client();
        let listed = o.cmd(&["CLIENT", "LIST", "ID", &id]).text();
        assert!(listed.contains("flags=b"), "{listed}");
        assert_eq!(o.cmd(&["CLIENT", "KILL", "ID", &id]), Reply::int(1));
        assert!(c.closed_within(Duration::from_secs(10)), "{keys:?}");
        wait_blocked(&s, 0);
        o.cmd(&["RPUSH", keys[0], "kept"]);
        assert_eq!(o.cmd(&["LLEN", keys[0]]), Reply::int(1));
        o.cmd(&["DEL", keys[0]]);
    }
}

/// What needs no waiting, replies and errors included, is byte for byte Redis's.
const DIFF_LINES: &[&str] = &[
    "RPUSH l a b c",
    "BLPOP l 0",
    "BRPOP nothing l 0",
    "BLPOP l -1",
    "BLPOP l abc",
    "BLPOP l 1e400",
    "SET s v",
    "BLPOP s 0",
    "BLPOP nothing s 0",
    "BLMOVE l d LEFT UP 0",
    "BLMOVE l d LEFT RIGHT x",
    "BLMOVE l d LEFT RIGHT 0",
    "BRPOPLPUSH nothing d 0.01",
    "BLMPOP 0 2 l d LEFT COUNT 2",
    "BLMPOP 0 0 l LEFT",
    "BLMPOP 0 1 l MIDDLE",
    "BLMPOP 0.01 1 nothing LEFT",
    "ZADD z 1 a 2 b 3 c",
    "BZPOPMIN z 0",
    "BZPOPMAX z nothing 0",
    "BZPOPMIN s 0",
    "BZMPOP 0 1 z MIN COUNT 5",
    "BZMPOP 0.01 1 z MAX",
    "BZMPOP 0 1 z SIDEWAYS",
    "BLPOP l 0.01",
    "MULTI",
    "BLPOP nothing 0",
    "EXEC",
];

#[test]
fn immediate_replies_match_redis() {
    if common::against_redis() {
        return;
    }
    common::assert_matches_redis(DIFF_LINES);
}
