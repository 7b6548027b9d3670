//! Pub/Sub through the real binary with 4 shards: subscribers on every shard receive what any
//! shard publishes, in order, by channel and by pattern; PUBLISH counts receivers; PUBSUB
//! reports across shards; a RESP2 subscriber may only (un)subscribe, PING and QUIT while a RESP3
//! one gets push messages beside ordinary replies; a subscriber that leaves or falls far behind
//! is dropped. `FERRITE_IT_TARGET=redis` runs the same expectations against redis-server.

mod common;

use std::time::{Duration, Instant};

use common::{Client, Reply, Server};

fn bulk_items(items: &[&str]) -> Vec<Reply> {
    items.iter().map(Reply::bulk).collect()
}

fn message(channel: &str, payload: &str) -> Reply {
    Reply::Array(bulk_items(&["message", channel, payload]))
}

fn subscribed(s: &Server, channels: &[&str]) -> Client {
    let mut c = s.client();
    let mut args = vec!["SUBSCRIBE"];
    args.extend(channels);
    c.send(&args);
    for (i, ch) in channels.iter().enumerate() {
        assert_eq!(
            c.read(),
            Reply::Array(vec![
                Reply::bulk("subscribe"),
                Reply::bulk(ch),
                Reply::int(i as i64 + 1)
            ])
        );
    }
    c
}

/// Waits (bounded) until PUBSUB NUMSUB `channel` is `n`.
fn wait_numsub(s: &Server, channel: &str, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = s.client().cmd(&["PUBSUB", "NUMSUB", channel]).items()[1].as_int();
        if got == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "NUMSUB {channel} stayed {got}, not {n}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn subscribers_on_every_shard_get_every_message_in_order() {
    let s = Server::start(4);
    // Connections are spread over the shards one by one.
    let mut subs: Vec<Client> = (0..8).map(|_| subscribed(&s, &["news"])).collect();
    let mut publishers: Vec<Client> = (0..4).map(|_| s.client()).collect();
    for i in 0..50 {
        let p = &mut publishers[i % 4];
        assert_eq!(p.cmd(&["PUBLISH", "news", &format!("m{i}")]), Reply::int(8));
    }
    for sub in &mut subs {
        for i in 0..50 {
            assert_eq!(sub.read(), message("news", &format!("m{i}")));
        }
    }
    assert_eq!(publishers[0].cmd(&["PUBLISH", "other", "x"]), Reply::int(0));
}

#[test]
fn patterns_and_unsubscribing() {
    let s = Server::start(4);
    let mut c = s.client();
    c.send(&["PSUBSCRIBE", "user:*", "h?llo"]);
    assert_eq!(
        c.read(),
        Reply::Array(vec![
            Reply::bulk("psubscribe"),
            Reply::bulk("user:*"),
            Reply::int(1)
        ])
    );
    assert_eq!(
        c.read(),
        Reply::Array(vec![
            Reply::bulk("psubscribe"),
            Reply::bulk("h?llo"),
            Reply::int(2)
        ])
    );
    c.send(&["SUBSCRIBE", "user:1"]);
    assert_eq!(
        c.read(),
        Reply::Array(vec![
            Reply::bulk("subscribe"),
            Reply::bulk("user:1"),
            Reply::int(3)
        ])
    );
    let mut p = s.client();
    // One message per matching subscription: the channel and the pattern.
    assert_eq!(p.cmd(&["PUBLISH", "user:1", "a"]), Reply::int(2));
    assert_eq!(p.cmd(&["PUBLISH", "hello", "b"]), Reply::int(1));
    let mut got = vec![c.read(), c.read()];
    got.sort_by_key(|r| format!("{r:?}"));
    assert_eq!(
        got,
        vec![
            message("user:1", "a"),
            Reply::Array(bulk_items(&["pmessage", "user:*", "user:1", "a"])),
        ]
    );
    assert_eq!(
        c.read(),
        Reply::Array(bulk_items(&["pmessage", "h?llo", "hello", "b"]))
    );
    assert_eq!(p.cmd(&["PUBSUB", "NUMPAT"]), Reply::int(2));
    c.send(&["PUNSUBSCRIBE", "h?llo"]);
    assert_eq!(
        c.read(),
        Reply::Array(vec![
            Reply::bulk("punsubscribe"),
            Reply::bulk("h?llo"),
            Reply::int(2)
        ])
    );
    c.send(&["UNSUBSCRIBE"]);
    assert_eq!(
        c.read(),
        Reply::Array(vec![
            Reply::bulk("unsubscribe"),
            Reply::bulk("user:1"),
            Reply::int(1)
        ])
    );
    assert_eq!(p.cmd(&["PUBLISH", "hello", "c"]), Reply::int(0));
    c.send(&["PUNSUBSCRIBE"]);
    assert_eq!(
        c.read(),
        Reply::Array(vec![
            Reply::bulk("punsubscribe"),
            Reply::bulk("user:*"),
            Reply::int(0)
        ])
    );
    // Out of subscribed mode: ordinary commands again.
    assert_eq!(c.cmd(&["SET", "k", "v"]), Reply::ok());
    c.send(&["UNSUBSCRIBE"]);
    assert_eq!(
        c.read(),
        Reply::Array(vec![
            Reply::bulk("unsubscribe"),
            Reply::NilBulk,
            Reply::int(0)
        ])
    );
}

#[test]
fn pubsub_introspection_spans_shards() {
    let s = Server::start(4);
    let _a = subscribed(&s, &["alpha", "beta"]);
    let _b = subscribed(&s, &["alpha"]);
    let _c = subscribed(&s, &["gamma"]);
    let mut p = s.client();
    let mut channels = p.cmd(&["PUBSUB", "CHANNELS"]).strings();
    channels.sort();
    assert_eq!(channels, vec!["alpha", "beta", "gamma"]);
    let mut matching = p.cmd(&["PUBSUB", "CHANNELS", "*a"]).strings();
    matching.sort();
    assert_eq!(matching, vec!["alpha", "beta", "gamma"]);
    assert_eq!(p.cmd(&["PUBSUB", "CHANNELS", "b*"]).strings(), vec!["beta"]);
    assert_eq!(
        p.cmd(&["PUBSUB", "NUMSUB", "alpha", "gamma", "none"]),
        Reply::Array(vec![
            Reply::bulk("alpha"),
            Reply::int(2),
            Reply::bulk("gamma"),
            Reply::int(1),
            Reply::bulk("none"),
            Reply::int(0),
        ])
    );
    assert_eq!(p.cmd(&["PUBSUB", "NUMSUB"]), Reply::Array(vec![]));
    assert_eq!(p.cmd(&["PUBSUB", "NUMPAT"]), Reply::int(0));
    let clients = p.cmd(&["CLIENT", "LIST"]).text();
    assert!(
        clients.contains("flags=P") && clients.contains("sub=2 psub=0"),
        "{clients}"
    );
}

#[test]
fn a_resp2_subscriber_may_only_subscribe_ping_and_quit() {
    let s = Server::start(4);
    let mut c = subscribed(&s, &["ch"]);
    assert_eq!(
        c.cmd(&["GET", "k"]),
        Reply::err("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
    );
    assert_eq!(c.cmd(&["PING"]), Reply::Array(bulk_items(&["pong", ""])));
    assert_eq!(
        c.cmd(&["PING", "hi"]),
        Reply::Array(bulk_items(&["pong", "hi"]))
    );
    assert_eq!(c.cmd(&["QUIT"]), Reply::ok());
    wait_numsub(&s, "ch", 0);
}

#[test]
fn a_resp3_subscriber_gets_pushes_beside_replies() {
    let s = Server::start(4);
    let mut c = s.client();
    assert!(!c.cmd(&["HELLO", "3"]).is_error());
    let raw = c.cmd_raw(&["SUBSCRIBE", "ch"]);
    assert_eq!(raw, b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v"]), Reply::ok());
    assert_eq!(c.cmd(&["PING"]), Reply::status("PONG"));
    s.client().cmd(&["PUBLISH", "ch", "payload"]);
    let raw = c.read_raw();
    assert_eq!(raw, b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$7\r\npayload\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), Reply::bulk("v"));
}

#[test]
fn a_subscriber_that_leaves_is_dropped() {
    let s = Server::start(4);
    let c = subscribed(&s, &["gone"]);
    wait_numsub(&s, "gone", 1);
    drop(c);
    wait_numsub(&s, "gone", 0);
    assert_eq!(s.client().cmd(&["PUBLISH", "gone", "x"]), Reply::int(0));
}

#[test]
fn a_subscriber_that_reads_nothing_is_cut_off_past_the_output_limit() {
    let s = Server::start(4);
    let _stalled = subscribed(&s, &["flood"]);
    let mut p = s.client();
    let payload = "x".repeat(1 << 20);
    // 64 MB for a subscriber that reads nothing: past the 32 MB limit it is disconnected.
    for _ in 0..64 {
        p.cmd(&["PUBLISH", "flood", &payload]);
    }
    wait_numsub(&s, "flood", 0);
    assert_eq!(p.cmd(&["PING"]), Reply::status("PONG"));
}

#[test]
fn the_conversation_is_byte_for_byte_redis() {
    if common::against_redis() {
        return;
    }
    let script: &[&[&str]] = &[
        &["UNSUBSCRIBE"],
        &["PUNSUBSCRIBE", "nothing"],
        &["SUBSCRIBE", "a", "b"],
        &["PSUBSCRIBE", "c*"],
        &["SUBSCRIBE", "a"],
        &["GET", "x"],
        &["PING"],
        &["SUBSCRIBE"],
        &["UNSUBSCRIBE", "b", "zz"],
        &["PUNSUBSCRIBE"],
        &["UNSUBSCRIBE"],
        &["PUBLISH", "a", "m"],
        &["PUBSUB", "NUMSUB", "a"],
        &["PUBSUB", "NUMPAT"],
        &["PUBSUB", "CHANNELS", "x", "y"],
        &["PUBSUB", "NOPE"],
        &["PUBSUB", "HELP"],
        &["SUNSUBSCRIBE"],
        &["SSUBSCRIBE", "s1", "s2"],
        &["SUBSCRIBE", "c1"],
        &["SSUBSCRIBE", "s1"],
        &["GET", "x"],
        // (Publishing to itself is left out: a RESP3 client gets its own message after the
        // PUBLISH reply here, before it in Redis.)
        &["SPUBLISH", "s3", "nobody"],
        &["PUBLISH", "s1", "not-shard"],
        &["PUBSUB", "SHARDNUMSUB", "s1", "s3"],
        &["PUBSUB", "SHARDCHANNELS", "s1*"],
        &["PUBSUB", "SHARDCHANNELS", "x", "y"],
        &["SUNSUBSCRIBE", "s1"],
        &["UNSUBSCRIBE"],
        &["SUNSUBSCRIBE"],
        &["PING"],
    ];
    let ferrite = Server::start(4);
    let redis = Server::start_redis();
    for resp3 in [false, true] {
        let mut bytes = Vec::new();
        if resp3 {
            bytes.extend(common::encode(&["HELLO", "3"]));
        }
        for line in script {
            bytes.extend(common::encode(line));
        }
        let (f, r) = (ferrite.raw(&bytes), redis.raw(&bytes));
        // HELLO's own reply names the server: compare what follows it.
        let skip = |b: &[u8]| {
            if resp3 {
                common::frame_end(b, 0).map_or(b.to_vec(), |end| b[end..].to_vec())
            } else {
                b.to_vec()
            }
        };
        assert_eq!(
            String::from_utf8_lossy(&skip(&f)),
            String::from_utf8_lossy(&skip(&r)),
            "resp3: {resp3}"
        );
    }
}

#[test]
fn publish_inside_multi_is_delivered_when_exec_runs() {
    let s = Server::start(4);
    let mut sub = subscribed(&s, &["events"]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["SET", "state", "done"]), Reply::status("QUEUED"));
    assert_eq!(
        c.cmd(&["PUBLISH", "events", "state-changed"]),
        Reply::status("QUEUED")
    );
    assert_eq!(c.cmd(&["PUBLISH", "nobody", "x"]), Reply::status("QUEUED"));
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Array(vec![Reply::ok(), Reply::int(1), Reply::int(0)])
    );
    assert_eq!(sub.read(), message("events", "state-changed"));
    // A transaction of PUBLISH alone, with no key at all.
    c.cmd(&["MULTI"]);
    c.cmd(&["PUBLISH", "events", "again"]);
    assert_eq!(c.cmd(&["EXEC"]), Reply::Array(vec![Reply::int(1)]));
    assert_eq!(sub.read(), message("events", "again"));
}

#[test]
fn shard_channels_are_their_own_namespace() {
    let s = Server::start(4);
    let mut sub = s.client();
    sub.send(&["SSUBSCRIBE", "orders"]);
    assert_eq!(
        sub.read(),
        Reply::Array(vec![
            Reply::bulk("ssubscribe"),
            Reply::bulk("orders"),
            Reply::int(1)
        ])
    );
    let mut p = s.client();
    assert_eq!(p.cmd(&["PUBLISH", "orders", "plain"]), Reply::int(0));
    assert_eq!(p.cmd(&["SPUBLISH", "orders", "sharded"]), Reply::int(1));
    assert_eq!(
        sub.read(),
        Reply::Array(bulk_items(&["smessage", "orders", "sharded"]))
    );
    assert_eq!(
        p.cmd(&["PUBSUB", "SHARDCHANNELS"]).strings(),
        vec!["orders"]
    );
    assert_eq!(p.cmd(&["PUBSUB", "CHANNELS"]), Reply::Array(vec![]));
    let clients = p.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"]).text();
    assert!(clients.contains("sub=0 psub=0 ssub=1"), "{clients}");
}

#[test]
fn reset_makes_a_connection_new_again_as_in_redis() {
    if common::against_redis() {
        return;
    }
    let script: &[&[&str]] = &[
        &["CLIENT", "SETNAME", "worker"],
        &["SELECT", "3"],
        &["SET", "in3", "x"],
        &["WATCH", "in3"],
        &["SUBSCRIBE", "a"],
        &["PSUBSCRIBE", "b*"],
        &["RESET"],
        &["CLIENT", "GETNAME"],
        &["GET", "in3"],
        &["PUBSUB", "NUMSUB", "a"],
        &["PUBSUB", "NUMPAT"],
        &["MULTI"],
        &["SET", "k", "v"],
        &["RESET"],
        &["EXEC"],
        &["EXISTS", "k"],
    ];
    let ferrite = Server::start(4);
    let redis = Server::start_redis();
    let mut bytes = Vec::new();
    for line in script {
        bytes.extend(common::encode(line));
    }
    let (f, r) = (ferrite.raw(&bytes), redis.raw(&bytes));
    assert_eq!(String::from_utf8_lossy(&f), String::from_utf8_lossy(&r));
}
