//! The append-only log end to end: every kind of write survives kill -9 and a restart (with a
//! different shard count too), `aof_fsync = "always"` loses no acknowledged write under load, and
//! a checkpoint (BGREWRITEAOF) truncates the logs it covers.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{against_redis, scratch_dir, Client, Reply, Server};

fn config(data: &Path, fsync: &str) -> PathBuf {
    common::config_file(&format!(
        "[persistence]\ndir = \"{}\"\naof_enabled = true\naof_fsync = \"{fsync}\"\n",
        data.display()
    ))
}

fn start(shards: usize, config: &Path) -> Server {
    Server::start_configured(shards, config)
}

fn logs(data: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(data)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".aof"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Every key of db 0 and db 5 with its type and contents, sorted: the whole visible state.
fn state(s: &Server) -> Vec<(String, Reply)> {
    let mut c = s.client();
    let mut out = Vec::new();
    for db in ["0", "5"] {
        c.cmd(&["SELECT", db]);
        let mut keys = c.cmd(&["KEYS", "*"]).strings();
        keys.sort();
        for k in keys {
            let ty = c.cmd(&["TYPE", &k]).text();
            let value = match ty.as_str() {
                "string" => c.cmd(&["GET", &k]),
                "list" => c.cmd(&["LRANGE", &k, "0", "-1"]),
                "set" => {
                    let mut m = c.cmd(&["SMEMBERS", &k]).strings();
                    m.sort();
                    Reply::bulks(&m.iter().map(String::as_str).collect::<Vec<_>>())
                }
                "hash" => {
                    let mut p = c.cmd(&["HGETALL", &k]).strings();
                    p.sort();
                    Reply::bulks(&p.iter().map(String::as_str).collect::<Vec<_>>())
                }
                "zset" => c.cmd(&["ZRANGE", &k, "0", "-1", "WITHSCORES"]),
                "stream" => c.cmd(&["XINFO", "STREAM", &k, "FULL"]),
                other => Reply::status(other),
            };
            let has_ttl = c.cmd(&["PTTL", &k]).as_int() > 0;
            out.push((format!("{db}/{k}/{ty}/ttl={has_ttl}"), value));
        }
    }
    out
}

#[test]
fn every_kind_of_write_survives_kill_9_and_a_new_shard_count() {
    if against_redis() {
        return;
    }
    let data = scratch_dir();
    let conf = config(&data, "everysec");
    let s = start(4, &conf);
    let mut c = s.client();
    for i in 0..40 {
        c.cmd(&["SET", &format!("s{i}"), &format!("v{i}")]);
        c.cmd(&["INCRBY", &format!("n{}", i % 7), "3"]);
        c.cmd(&["RPUSH", &format!("l{}", i % 5), &i.to_string()]);
        c.cmd(&["SADD", &format!("set{}", i % 3), &format!("m{i}")]);
        c.cmd(&["HSET", &format!("h{}", i % 4), &format!("f{i}"), "x"]);
        c.cmd(&["ZADD", "z", &i.to_string(), &format!("z{i}")]);
    }
    // Streams: logged as commands (explicit IDs, XDEL, XACK, XGROUP with IDs) and as states
    // (`*` IDs, approximate trims, XREADGROUP, XCLAIM).
    for i in 1..=30 {
        c.cmd(&["XADD", "x", &format!("{i}-0"), "f", &i.to_string()]);
        c.cmd(&["XADD", &format!("xa{}", i % 3), "*", "f", &i.to_string()]);
    }
    c.cmd(&["XADD", "x", "MAXLEN", "25", "31-0", "f", "31"]);
    c.cmd(&["XADD", "x", "MAXLEN", "~", "2", "32-0", "f", "32"]);
    c.cmd(&["XDEL", "x", "10-0", "11-0"]);
    c.cmd(&["XGROUP", "CREATE", "x", "g", "0"]);
    c.cmd(&["XGROUP", "CREATE", "x", "g2", "$"]);
    c.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "COUNT",
        "4",
        "STREAMS",
        "x",
        ">",
    ]);
    c.cmd(&["XACK", "x", "g", "8-0"]);
    c.cmd(&["XCLAIM", "x", "g", "bob", "0", "9-0"]);
    c.cmd(&["XGROUP", "SETID", "x", "g2", "5-0"]);
    c.cmd(&["XGROUP", "DELCONSUMER", "x", "g", "bob"]);
    c.cmd(&["XTRIM", "xa0", "MAXLEN", "3"]);
    c.cmd(&["SPOP", "set0", "3"]);
    c.cmd(&["EXPIRE", "s1", "1000"]);
    c.cmd(&["SET", "ttl", "x", "EX", "1000"]);
    c.cmd(&["INCRBYFLOAT", "f", "1.5"]);
    c.cmd(&["MSET", "a", "1", "b", "2", "c", "3", "d", "4"]);
    c.cmd(&["RENAME", "s2", "renamed"]);
    c.cmd(&["DEL", "s3", "s4", "s5"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["INCR", "a"]);
    c.cmd(&["LPUSH", "l0", "front"]);
    c.cmd(&["SUNIONSTORE", "union", "set1", "set2"]);
    c.cmd(&["EXEC"]);
    c.cmd(&["SELECT", "5"]);
    c.cmd(&["SET", "in5", "five"]);
    c.cmd(&["SELECT", "6"]);
    c.cmd(&["SET", "in6", "six"]);
    c.cmd(&["FLUSHDB"]);
    c.cmd(&["SET", "after-flush", "yes"]);
    c.cmd(&["SWAPDB", "6", "5"]);
    c.cmd(&["SELECT", "0"]);
    let before = state(&s);
    assert!(before.len() > 40, "{before:?}");
    drop(c);
    drop(s); // SIGKILL: no save, only the logs
    let s = start(2, &conf);
    assert_eq!(state(&s), before);
    drop(s);
    let s = start(4, &conf);
    assert_eq!(
        state(&s),
        before,
        "and once more, after a restart that replayed"
    );
}

#[test]
fn with_always_no_acknowledged_write_is_lost_to_kill_9() {
    if against_redis() {
        return;
    }
    let data = scratch_dir();
    let conf = config(&data, "always");
    let mut server = Some(start(2, &conf));
    let addr = server.as_ref().map(Server::addr).expect("server");
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                let mut acked = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    // The server is killed mid-stream: a failed send ends this writer.
                    let sent = c
                        .try_send(&["SET", &format!("w{w}:{acked}"), "v"])
                        .and_then(|_| c.try_send(&["INCR", &format!("count{w}")]));
                    if sent.is_err() {
                        break;
                    }
                    match (c.try_read(), c.try_read()) {
                        (Ok(Reply::Status(_)), Ok(Reply::Int(_))) => acked += 1,
                        _ => break,
                    }
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    // SIGKILL while the writers are still writing: some requests are in flight.
    drop(server.take());
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<u64> = writers
        .into_iter()
        .map(|t| t.join().expect("writer"))
        .collect();
    assert!(
        acked.iter().all(|&n| n > 0),
        "writers made progress: {acked:?}"
    );
    let s = start(2, &conf);
    let mut c = s.client();
    for (w, &n) in acked.iter().enumerate() {
        let count = c
            .cmd(&["GET", &format!("count{w}")])
            .text()
            .parse::<u64>()
            .expect("count");
        assert!(
            count >= n,
            "writer {w}: {n} INCRs acknowledged, {count} survived"
        );
        for i in 0..n {
            assert_eq!(
                c.cmd(&["EXISTS", &format!("w{w}:{i}")]),
                Reply::int(1),
                "acknowledged SET w{w}:{i} lost"
            );
        }
    }
}

#[test]
fn a_checkpoint_truncates_the_logs_it_covers() {
    if against_redis() {
        return;
    }
    let data = scratch_dir();
    let conf = config(&data, "everysec");
    let s = start(2, &conf);
    let mut c = s.client();
    for i in 0..100 {
        c.cmd(&["SET", &format!("k{i}"), "before"]);
    }
    let first = logs(&data);
    assert_eq!(first.len(), 2, "one log per shard: {first:?}");
    assert_eq!(
        c.cmd(&["BGREWRITEAOF"]),
        Reply::status("Background append only file rewriting started")
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while s
        .info_field("persistence", "aof_rewrite_in_progress")
        .as_deref()
        != Some("0")
    {
        assert!(Instant::now() < deadline, "rewrite never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    let after = logs(&data);
    assert_eq!(after.len(), 2, "the covered generation is gone: {after:?}");
    assert!(
        after.iter().all(|n| !first.contains(n)),
        "{first:?} -> {after:?}"
    );
    for i in 0..50 {
        c.cmd(&["SET", &format!("k{i}"), "after"]);
    }
    drop(c);
    drop(s);
    let s = start(2, &conf);
    let mut c = s.client();
    assert_eq!(c.cmd(&["GET", "k0"]), Reply::bulk("after"));
    assert_eq!(c.cmd(&["GET", "k99"]), Reply::bulk("before"));
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::int(100));
}
