//! Checkpoints end to end through the real binary: BGSAVE/SAVE/LASTSAVE/INFO, restart and
//! `--restore`, a snapshot's point-in-time consistency under writes, kill -9 during a save, corrupt
//! and truncated backups, a full disk, shutdown saves, and Redis RDB files written by Debian's
//! redis-server.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{against_redis, ferrite_bin, run_bounded, scratch_dir, Reply, Server};

/// A configuration file whose checkpoints go to `data`.
fn config(data: &Path, extra: &str) -> PathBuf {
    common::config_file(&format!(
        "[persistence]\ndir = \"{}\"\n{extra}",
        data.display()
    ))
}

fn start(shards: usize, config: &Path) -> Server {
    Server::start_configured(shards, config)
}

fn backups(data: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(data)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.to_string_lossy().ends_with(".ferrite.backup"));
    v.sort();
    v
}

/// Waits (bounded) until no save is in progress, and returns INFO's last status.
fn wait_saved(s: &Server) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if s.info_field("persistence", "rdb_bgsave_in_progress")
            .as_deref()
            == Some("0")
        {
            return s
                .info_field("persistence", "rdb_last_bgsave_status")
                .unwrap_or_default();
        }
        assert!(Instant::now() < deadline, "save never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Fills every type (with TTLs) through `c`, on keys spread over the shards.
fn fill_every_type(s: &Server) {
    let mut c = s.client();
    for i in 0..50 {
        c.cmd(&["SET", &format!("str:{i}"), &format!("value-{i}")]);
        c.cmd(&["SET", &format!("int:{i}"), &i.to_string()]);
        c.cmd(&["RPUSH", &format!("list:{i}"), "a", "b", &i.to_string()]);
        c.cmd(&["SADD", &format!("set:{i}"), "x", "y", &i.to_string()]);
        c.cmd(&["SADD", &format!("iset:{i}"), "1", "2", &i.to_string()]);
        c.cmd(&["HSET", &format!("hash:{i}"), "f", "v", "n", &i.to_string()]);
        c.cmd(&[
            "ZADD",
            &format!("zset:{i}"),
            "1.5",
            "a",
            "-2",
            "b",
            &i.to_string(),
            "c",
        ]);
    }
    let mut args = vec!["ZADD".to_string(), "bigzset".to_string()];
    for i in 0..200 {
        args.push(format!("{}", i as f64 / 4.0));
        args.push(format!("m{i}"));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    c.cmd(&refs);
    let big: Vec<String> = (0..300).map(|i| format!("member-{i}")).collect();
    let mut args = vec!["SADD", "bigset"];
    args.extend(big.iter().map(String::as_str));
    c.cmd(&args);
    let mut args = vec!["RPUSH", "biglist"];
    args.extend(big.iter().map(String::as_str));
    c.cmd(&args);
    for i in 0..50 {
        let key = format!("stream:{i}");
        c.cmd(&["XADD", &key, &format!("1-{i}"), "f", "v"]);
        c.cmd(&["XADD", &key, "2-0", "n", &i.to_string()]);
    }
    for i in 1..=250 {
        let value = format!("{i}").repeat(i % 40 + 1);
        c.cmd(&["XADD", "bigstream", &format!("{i}-1"), "f", &value]);
    }
    c.cmd(&["XDEL", "bigstream", "3-1", "120-1"]);
    c.cmd(&["XGROUP", "CREATE", "bigstream", "g", "0"]);
    c.cmd(&["XGROUP", "CREATE", "bigstream", "late", "$"]);
    c.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "COUNT",
        "5",
        "STREAMS",
        "bigstream",
        ">",
    ]);
    c.cmd(&["XGROUP", "CREATE", "emptystream", "g", "$", "MKSTREAM"]);
    let long = "L".repeat(10_000);
    c.cmd(&["SET", "long", &long]);
    c.cmd(&["SET", "ttl:key", "soon", "PX", "600000"]);
    c.cmd(&["SELECT", "3"]);
    c.cmd(&["SET", "in:db3", "three"]);
}

/// Reads back what `fill_every_type` wrote.
fn snapshot_of(s: &Server) -> Vec<Reply> {
    let mut c = s.client();
    let mut out = Vec::new();
    for i in [0, 7, 49] {
        out.push(c.cmd(&["GET", &format!("str:{i}")]));
        out.push(c.cmd(&["OBJECT", "ENCODING", &format!("int:{i}")]));
        out.push(c.cmd(&["LRANGE", &format!("list:{i}"), "0", "-1"]));
        out.push(c.cmd(&[
            "SMISMEMBER",
            &format!("set:{i}"),
            "x",
            "y",
            &i.to_string(),
            "z",
        ]));
        out.push(c.cmd(&["OBJECT", "ENCODING", &format!("iset:{i}")]));
        out.push(c.cmd(&["HGETALL", &format!("hash:{i}")]));
        out.push(c.cmd(&["ZRANGE", &format!("zset:{i}"), "0", "-1", "WITHSCORES"]));
    }
    out.push(c.cmd(&["ZRANGE", "bigzset", "190", "-1", "WITHSCORES"]));
    out.push(c.cmd(&["OBJECT", "ENCODING", "bigzset"]));
    out.push(c.cmd(&["SCARD", "bigset"]));
    out.push(c.cmd(&["LRANGE", "biglist", "295", "-1"]));
    for line in [
        "XINFO STREAM stream:7 FULL",
        "XINFO STREAM bigstream FULL COUNT 0",
        "XINFO GROUPS bigstream",
        "XINFO STREAM emptystream FULL",
    ] {
        let reply = c.line(line);
        assert!(!reply.is_error(), "{line}: {reply:?}");
        out.push(reply);
    }
    out.push(c.cmd(&["STRLEN", "long"]));
    out.push(c.cmd(&["DBSIZE"]));
    out.push(c.cmd(&["SELECT", "3"]));
    out.push(c.cmd(&["GET", "in:db3"]));
    out
}

#[test]
fn bgsave_then_restart_brings_back_every_type_and_ttl() {
    if against_redis() {
        return;
    }
    let data = scratch_dir();
    let conf = config(&data, "");
    let s = start(4, &conf);
    fill_every_type(&s);
    let before = snapshot_of(&s);
    let mut c = s.client();
    let last = c.cmd(&["LASTSAVE"]).as_int();
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Reply::status("Background saving started")
    );
    assert_eq!(wait_saved(&s), "ok");
    assert!(c.cmd(&["LASTSAVE"]).as_int() > last);
    assert_eq!(backups(&data).len(), 1, "one checkpoint file");
    drop(c);
    drop(s);

    let s = start(2, &conf); // a different shard count loads the same data
    assert_eq!(snapshot_of(&s), before);
    let mut c = s.client();
    let pttl = c.cmd(&["PTTL", "ttl:key"]).as_int();
    assert!(
        pttl > 500_000 && pttl <= 600_000,
        "TTL kept as an absolute time: {pttl}"
    );
    assert_eq!(c.cmd(&["TTL", "str:0"]), Reply::int(-1));
}

#[test]
fn save_replies_when_written_and_info_reports_it() {
    if against_redis() {
        return;
    }
    let data = scratch_dir();
    let s = start(2, &config(&data, "checkpoint_keep = 2\n"));
    let mut c = s.client();
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(
        s.info_field("persistence", "rdb_changes_since_last_save")
            .as_deref(),
        Some("1")
    );
    for _ in 0..3 {
        assert_eq!(c.cmd(&["SAVE"]), Reply::ok());
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(backups(&data).len(), 2, "checkpoint_keep = 2 keeps two");
    assert_eq!(
        s.info_field("persistence", "rdb_last_bgsave_status")
            .as_deref(),
        Some("ok")
    );
    assert_eq!(
        s.info_field("persistence", "rdb_changes_since_last_save")
            .as_deref(),
        Some("0")
    );
    assert_eq!(
        s.info_field("persistence", "rdb_saves").as_deref(),
        Some("3")
    );
    assert_eq!(c.cmd(&["BGSAVE", "NOW"]), Reply::err("ERR syntax error"));
}

fn key_in_slots(slots: std::ops::Range<u16>, prefix: &str) -> String {
    (0..)
        .map(|i| format!("{prefix}:{i}"))
        .find(|k| slots.contains(&ferrite::slot::key_slot(k.as_bytes())))
        .expect("some key lands there")
}

#[test]
fn a_snapshot_is_one_point_in_time_per_shard_under_writes() {
    if against_redis() {
        return;
    }
    let data = scratch_dir();
    let conf = config(&data, "");
    let s = start(2, &conf);
    // Enough keys that the snapshot spans many loop turns.
    let mut c = s.client();
    for chunk in 0..40 {
        let mut args = vec!["MSET".to_string()];
        for i in 0..1000 {
            args.push(format!("fill:{chunk}:{i}"));
            args.push("x".repeat(40));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        c.cmd(&refs);
    }
    // Two keys of shard 0 (slots 0..8191 of 2 shards) far apart in slot order: the snapshot's
    // walk reaches them at different times, so only its copy-before-touch keeps them together.
    let late = key_in_slots(7000..8192, "late");
    let early = key_in_slots(0..1000, "early");
    c.cmd(&["MSET", &late, "0", &early, "0"]);
    let (a_key, b_key) = (late.clone(), early.clone());
    let port = s.port;
    let writer = std::thread::spawn(move || {
        let mut w = common::Client::connect(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut n = 0;
        while Instant::now() < deadline {
            w.cmd(&["MULTI"]);
            w.cmd(&["INCR", &a_key]);
            w.cmd(&["INCR", &b_key]);
            w.cmd(&["EXEC"]);
            n += 1;
        }
        n
    });
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Reply::status("Background saving started")
    );
    assert_eq!(wait_saved(&s), "ok");
    let rounds = writer.join().expect("writer");
    assert!(rounds > 0);
    drop(c);
    drop(s);
    let s = start(2, &conf);
    let mut c = s.client();
    let a = c.cmd(&["GET", &late]);
    assert_eq!(
        a,
        c.cmd(&["GET", &early]),
        "keys updated in one MULTI appear together"
    );
    assert_eq!(c.cmd(&["DBSIZE"]).as_int(), 40_002);
}

#[test]
fn kill_9_during_bgsave_leaves_the_previous_backup_loadable() {
    if against_redis() {
        return;
    }
    let data = scratch_dir();
    let conf = config(&data, "");
    let s = start(2, &conf);
    let mut c = s.client();
    c.cmd(&["SET", "generation", "1"]);
    assert_eq!(c.cmd(&["SAVE"]), Reply::ok());
    let first = backups(&data);
    let first_bytes = std::fs::read(&first[0]).expect("read backup");
    for chunk in 0..60 {
        let mut args = vec!["MSET".to_string()];
        for i in 0..1000 {
            args.push(format!("bulk:{chunk}:{i}"));
            args.push("y".repeat(100));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        c.cmd(&refs);
    }
    c.cmd(&["SET", "generation", "2"]);
    c.cmd(&["BGSAVE"]);
    std::thread::sleep(Duration::from_millis(5));
    drop(c);
    drop(s); // SIGKILL, mid-save or just after
    assert_eq!(
        std::fs::read(&first[0]).expect("first backup"),
        first_bytes,
        "untouched"
    );
    let s = start(2, &conf);
    let mut c = s.client();
    let generation = c.cmd(&["GET", "generation"]).text();
    let keys = c.cmd(&["DBSIZE"]).as_int();
    // Either the save finished before the kill (everything) or the first backup loads.
    assert!(
        (generation == "1" && keys == 1) || (generation == "2" && keys == 60_001),
        "generation {generation} with {keys} keys"
    );
}

#[test]
fn corrupt_and_truncated_backups_are_refused_and_the_data_dir_untouched() {
    if against_redis() {
        return;
    }
    let data = scratch_dir();
    let conf = config(&data, "");
    let s = start(2, &conf);
    let mut c = s.client();
    for i in 0..2000 {
        c.cmd(&["SET", &format!("k{i}"), "v"]);
    }
    assert_eq!(c.cmd(&["SAVE"]), Reply::ok());
    drop(c);
    drop(s);
    let good = backups(&data).remove(0);
    let bytes = std::fs::read(&good).expect("read");
    let elsewhere = scratch_dir();
    let corrupt = elsewhere.join("corrupt.ferrite.backup");
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    std::fs::write(&corrupt, &flipped).expect("write");
    let truncated = elsewhere.join("truncated.ferrite.backup");
    std::fs::write(&truncated, &bytes[..bytes.len() - 100]).expect("write");
    let listing = backups(&data);
    for (file, what) in [(&corrupt, "checksum"), (&truncated, "truncated")] {
        let out = run_bounded(
            Command::new(ferrite_bin())
                .args(["--port", "0", "--metrics-port", "0", "--config"])
                .arg(&conf)
                .arg("--restore")
                .arg(file),
            Duration::from_secs(30),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{file:?} was accepted");
        assert!(
            stderr.contains(&file.display().to_string()),
            "names the file: {stderr}"
        );
        assert!(
            stderr.contains(what),
            "says what is wrong ({what}): {stderr}"
        );
        assert_eq!(backups(&data), listing, "data directory untouched");
        assert_eq!(std::fs::read(&good).expect("read"), bytes);
    }
    // A damaged newest checkpoint in the directory: start-up falls back to the older good one.
    std::fs::write(
        data.join("checkpoint-9999999999999.ferrite.backup"),
        &flipped,
    )
    .expect("write");
    let s = start(2, &conf);
    assert_eq!(s.client().cmd(&["DBSIZE"]).as_int(), 2000);
}

#[test]
fn restore_flag_starts_from_a_backup() {
    if against_redis() {
        return;
    }
    let data = scratch_dir();
    let s = start(2, &config(&data, ""));
    let mut c = s.client();
    c.cmd(&["SET", "restored", "yes"]);
    assert_eq!(c.cmd(&["SAVE"]), Reply::ok());
    drop(c);
    drop(s);
    let backup = backups(&data).remove(0);
    let other = scratch_dir();
    let conf = config(&other, "");
    let s = Server::start_with(
        2,
        &[
            "--config",
            conf.to_str().unwrap(),
            "--restore",
            backup.to_str().unwrap(),
        ],
    );
    assert_eq!(s.client().cmd(&["GET", "restored"]), Reply::bulk("yes"));
}

#[test]
fn a_full_disk_fails_bgsave_visibly_and_the_server_keeps_serving() {
    if against_redis() {
        return;
    }
    assert!(
        unsafe { libc::geteuid() } == 0,
        "mounting a small tmpfs needs root; CI runs as root"
    );
    let data = scratch_dir();
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&data)
        .status()
        .expect("mount");
    assert!(status.success(), "mount tmpfs");
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(data.clone());
    let metrics_port = common::free_port();
    let conf = config(&data, "");
    let s = Server::start_with(
        2,
        &[
            "--config",
            conf.to_str().unwrap(),
            "--metrics-port",
            &metrics_port.to_string(),
        ],
    );
    let mut c = s.client();
    for chunk in 0..10 {
        let mut args = vec!["MSET".to_string()];
        for i in 0..100 {
            args.push(format!("fat:{chunk}:{i}"));
            args.push("z".repeat(1000));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        c.cmd(&refs);
    }
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Reply::status("Background saving started")
    );
    assert_eq!(wait_saved(&s), "err");
    assert!(
        c.cmd(&["SAVE"]).text().starts_with("ERR checkpoint failed"),
        "SAVE reports it"
    );
    assert_eq!(c.cmd(&["SET", "still", "serving"]), Reply::ok());
    assert!(
        s.log_text().contains("checkpoint failed"),
        "logged: {}",
        s.log_text()
    );
    let out = run_bounded(
        Command::new("curl").args(["-sf", &format!("http://127.0.0.1:{metrics_port}/metrics")]),
        Duration::from_secs(10),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("ferrite_persistence_failures_total 2"),
        "{text}"
    );
    assert!(backups(&data).is_empty(), "no partial checkpoint left");
    let leftovers: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .filter_map(Result::ok)
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files removed: {leftovers:?}"
    );
}

#[test]
fn shutdown_save_and_nosave_and_sigterm() {
    if against_redis() {
        return;
    }
    let data = scratch_dir();
    let conf = config(&data, "");
    let mut s = start(1, &conf);
    s.client().cmd(&["SET", "a", "1"]);
    s.client().send(&["SHUTDOWN", "NOSAVE"]);
    assert!(s.wait_exit(Duration::from_secs(20)).is_some());
    assert!(backups(&data).is_empty(), "NOSAVE writes nothing");
    drop(s);
    let mut s = start(1, &conf);
    s.client().cmd(&["SET", "a", "2"]);
    s.client().send(&["SHUTDOWN", "SAVE"]);
    assert!(s.wait_exit(Duration::from_secs(20)).is_some());
    assert_eq!(backups(&data).len(), 1, "SAVE writes a checkpoint");
    drop(s);
    // With checkpoints on, SIGTERM saves.
    let conf = config(&data, "checkpoint_enabled = true\n");
    let mut s = start(1, &conf);
    assert_eq!(s.client().cmd(&["GET", "a"]), Reply::bulk("2"));
    s.client().cmd(&["SET", "a", "3"]);
    unsafe { libc::kill(s.pid as i32, libc::SIGTERM) };
    assert!(s.wait_exit(Duration::from_secs(20)).is_some());
    drop(s);
    let s = start(1, &conf);
    assert_eq!(s.client().cmd(&["GET", "a"]), Reply::bulk("3"));
}

#[test]
fn a_redis_rdb_file_imports_with_the_values_redis_returns() {
    if against_redis() {
        return;
    }
    let redis = Server::start_redis();
    fill_every_type(&redis);
    let expected = snapshot_of(&redis);
    let mut c = redis.client();
    c.cmd(&["SET", "ttl:key", "soon", "PX", "600000"]);
    assert_eq!(c.cmd(&["SAVE"]), Reply::ok());
    let rdb = redis.dir.join("dump.rdb");
    assert!(rdb.exists(), "redis-server wrote {rdb:?}");
    let data = scratch_dir();
    let conf = config(&data, "");
    let s = Server::start_with(
        2,
        &[
            "--config",
            conf.to_str().unwrap(),
            "--restore",
            rdb.to_str().unwrap(),
        ],
    );
    assert_eq!(snapshot_of(&s), expected);
    let pttl = s.client().cmd(&["PTTL", "ttl:key"]).as_int();
    assert!(pttl > 500_000, "TTL imported: {pttl}");
}
