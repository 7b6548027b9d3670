//! Keyspace notifications (`notify-keyspace-events`) through the real binary with 4 shards,
//! compared with redis-server: the same commands must publish the same events. A subscriber sees
//! the events of one key in order; events of different keys may come from different shards, so
//! the keyevent channel is compared as a multiset.

mod common;

use std::time::{Duration, Instant};

use common::{split_line, Client, Reply, Server};

/// The commands whose events are compared, family by family.
const SCRIPT: &[&str] = &[
    // strings
    "SET s1 v",
    "SET s1 v EX 100",
    "SET s1 w NX",
    "SETNX s2 x",
    "MSET s3 a s4 b",
    "APPEND s3 c",
    "INCR n1",
    "INCRBYFLOAT n2 1.5",
    "SETRANGE s4 2 zz",
    "GETDEL s4",
    "GETEX s1 PERSIST",
    "SETEX s5 100 v",
    // keys
    "EXPIRE s5 200",
    "PERSIST s5",
    "RENAME s5 s6",
    "COPY s6 s7",
    "MOVE s7 3",
    "DEL s6 s7 nothing",
    "EXPIRE s3 -1",
    // lists
    "RPUSH l1 a b c",
    "LPUSH l1 z",
    "LPUSHX nolist a",
    "LPOP l1",
    "RPOP l1 2",
    "LINSERT l1 BEFORE a q",
    "LSET l1 0 r",
    "LREM l1 0 r",
    "LTRIM l1 0 -1",
    "RPUSH l2 x y",
    "LMOVE l2 l3 LEFT RIGHT",
    "LMOVE l2 l3 LEFT RIGHT",
    "LMPOP 1 l3 LEFT COUNT 5",
    "BLPOP l1 0",
    // hashes
    "HSET h1 f1 1 f2 2",
    "HSETNX h1 f3 3",
    "HINCRBY h1 f1 5",
    "HINCRBYFLOAT h1 f2 0.5",
    "HDEL h1 f1 f2 f3 nothing",
    // sets
    "SADD t1 a b c",
    "SADD t1 a",
    "SREM t1 a",
    "SMOVE t1 t2 b",
    "SPOP t1",
    "SADD t3 x y",
    "SINTERSTORE t4 t2 t3",
    "SUNIONSTORE t4 t2 t3",
    "SDIFFSTORE t4 t3 t2",
    // sorted sets
    "ZADD z1 1 a 2 b 3 c",
    "ZADD z1 XX 5 a",
    "ZINCRBY z1 1 b",
    "ZREM z1 a",
    "ZPOPMIN z1",
    "ZPOPMAX z1",
    "ZADD z2 1 a 2 b 3 c 4 d",
    "ZREMRANGEBYRANK z2 0 0",
    "ZREMRANGEBYSCORE z2 2 2",
    "ZREMRANGEBYLEX z2 - +",
    "ZADD z3 1 x",
    "ZUNIONSTORE z4 1 z3",
    "ZINTERSTORE z4 1 z3",
    "ZRANGESTORE z5 z3 0 -1",
    "BZPOPMIN z3 0",
    // bitmaps, HyperLogLog, geo
    "SETBIT b1 7 1",
    "BITOP OR b2 b1",
    "BITOP OR b2 nothing",
    "BITFIELD b3 SET u8 0 255 GET u8 0",
    "BITFIELD b3 OVERFLOW FAIL INCRBY u8 0 10",
    "PFADD p1 a b",
    "PFADD p1 a",
    "PFMERGE p2 p1",
    "GEOADD g1 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
    "GEOSEARCHSTORE g2 g1 FROMLONLAT 15 37 BYRADIUS 200 km",
    // streams
    "XADD x1 1-0 f v",
    "XADD x1 MAXLEN 1 2-0 f v",
    "XDEL x1 2-0",
    "XGROUP CREATE x1 grp $",
    "XGROUP CREATECONSUMER x1 grp alice",
    "XGROUP DELCONSUMER x1 grp alice",
    "XGROUP SETID x1 grp 0",
    "XSETID x1 5-0",
    "XGROUP DESTROY x1 grp",
    // transactions and SORT
    "MULTI",
    "RPUSH m1 3 1 2",
    "INCR m2",
    "EXEC",
    "SORT m1 STORE m3",
    "SORT nothing STORE m3",
];

/// (channel, message) pairs as a subscriber received them.
type Messages = Vec<(String, String)>;

/// What a `PSUBSCRIBE __key*__:*` client received after `script` ran on `s`, up to a sentinel:
/// the keyspace messages in order, the keyevent ones sorted.
fn events(s: &Server, script: &[&str]) -> (Messages, Messages) {
    let mut setup = s.client();
    assert_eq!(
        setup.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
        Reply::ok()
    );
    let mut sub = s.client();
    sub.send(&["PSUBSCRIBE", "__key*__:*", "sentinel"]);
    sub.read();
    sub.read();
    let mut c: Client = s.client();
    for line in script {
        c.cmd(&split_line(line));
    }
    c.cmd(&["PUBLISH", "sentinel", "end"]);
    let (mut keyspace, mut keyevent) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < deadline, "no sentinel");
        let msg = sub.read().strings();
        // ["pmessage", pattern, channel, payload]
        let (channel, payload) = (msg[2].clone(), msg[3].clone());
        if channel == "sentinel" {
            break;
        }
        if channel.starts_with("__keyspace@") {
            keyspace.push((channel, payload));
        } else {
            keyevent.push((channel, payload));
        }
    }
    keyevent.sort();
    (keyspace, keyevent)
}

/// Events grouped by key, each key's in order.
fn by_key(events: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    let mut keys: Vec<(String, Vec<String>)> = Vec::new();
    for (channel, event) in events {
        match keys.iter_mut().find(|(k, _)| k == channel) {
            Some((_, list)) => list.push(event.clone()),
            None => keys.push((channel.clone(), vec![event.clone()])),
        }
    }
    keys.sort();
    keys
}

#[test]
fn commands_publish_the_events_redis_publishes() {
    if common::against_redis() {
        return;
    }
    let ferrite = Server::start(4);
    let redis = Server::start_redis();
    let (f_space, f_event) = events(&ferrite, SCRIPT);
    let (r_space, r_event) = events(&redis, SCRIPT);
    assert!(!r_space.is_empty());
    let (f, r) = (by_key(&f_space), by_key(&r_space));
    for (theirs, ours) in r.iter().zip(f.iter()) {
        assert_eq!(ours, theirs, "keyspace events per key");
    }
    assert_eq!(f.len(), r.len(), "keys with events: {f:?} vs {r:?}");
    assert_eq!(f_event, r_event, "keyevent messages");
}

#[test]
fn expired_keys_and_config_values() {
    let s = Server::start(4);
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ex"]),
        Reply::ok()
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "notify-keyspace-events"]),
        Reply::Array(vec![
            Reply::bulk("notify-keyspace-events"),
            Reply::bulk("xE")
        ])
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Kq"]),
        Reply::err("ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    );
    let mut sub = s.client();
    sub.send(&["SUBSCRIBE", "__keyevent@0__:expired"]);
    sub.read();
    // One key expires on access, one by the active cycle.
    c.cmd(&["SET", "soon", "v", "PX", "1"]);
    c.cmd(&["SET", "later", "v", "PX", "50"]);
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(c.cmd(&["GET", "soon"]), Reply::NilBulk);
    let mut expired = vec![
        sub.read().strings()[2].clone(),
        sub.read().strings()[2].clone(),
    ];
    expired.sort();
    assert_eq!(expired, vec!["later", "soon"]);
    // Off again: nothing more is published.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", ""]),
        Reply::ok()
    );
    c.cmd(&["SET", "gone", "v", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(5));
    c.cmd(&["GET", "gone"]);
    assert_eq!(
        c.cmd(&["PUBLISH", "__keyevent@0__:expired", "marker"]),
        Reply::int(1)
    );
    assert_eq!(sub.read().strings()[2], "marker");
}

#[test]
fn the_configuration_file_turns_notifications_on_and_refuses_bad_letters() {
    if common::against_redis() {
        return;
    }
    let good = common::config_file("[server]\nnotify_keyspace_events = \"Elg\"\n");
    let s = Server::start_configured(2, &good);
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "notify-keyspace-events"]),
        Reply::Array(vec![
            Reply::bulk("notify-keyspace-events"),
            Reply::bulk("glE")
        ])
    );
    let mut sub = s.client();
    sub.send(&["SUBSCRIBE", "__keyevent@0__:lpush"]);
    sub.read();
    c.cmd(&["LPUSH", "queue", "job"]);
    assert_eq!(
        sub.read(),
        Reply::Array(vec![
            Reply::bulk("message"),
            Reply::bulk("__keyevent@0__:lpush"),
            Reply::bulk("queue")
        ])
    );
    let bad = common::config_file("[server]\nnotify_keyspace_events = \"KQ\"\n");
    let out = common::run_bounded(
        std::process::Command::new(common::ferrite_bin()).args([
            "--config",
            bad.to_str().expect("utf-8 path"),
            "--port",
            "0",
        ]),
        Duration::from_secs(20),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("server.notify_keyspace_events"), "{err}");
}
