//! Multi-key commands over keys on several shards must look atomic to every other client, as
//! they do in single-threaded Redis. Writers and readers run concurrently for a bounded number of
//! operations (and a bounded time); every reply a reader sees must be one Redis could give.

mod common;

use common::Server;
use redis::Connection;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// a..f land on shards 3, 0, 1, 2, 3, 0 of a four-shard server.
const KEYS: [&str; 6] = ["a", "b", "c", "d", "e", "f"];
/// No test here may run longer than this.
const TIME_LIMIT: Duration = Duration::from_secs(180);

fn check_time(start: Instant, what: &str) {
    assert!(
        start.elapsed() < TIME_LIMIT,
        "{what} still running after {TIME_LIMIT:?}"
    );
}

#[test]
fn mset_is_atomic_for_mget_readers() {
    const WRITERS: usize = 2;
    const MSETS_PER_WRITER: usize = 1000;
    const READERS: usize = 3;
    let s = Server::start(4);
    let start = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let reads_with_values = Arc::new(AtomicUsize::new(0));

    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let mut con: Connection = s.conn();
            let done = done.clone();
            let seen = reads_with_values.clone();
            thread::spawn(move || {
                let mut reads = 0usize;
                while !done.load(Ordering::SeqCst) {
                    check_time(start, "reader");
                    let vals: Vec<Option<String>> =
                        redis::cmd("MGET").arg(&KEYS).query(&mut con).unwrap();
                    assert!(
                        vals.iter().all(|v| *v == vals[0]),
                        "MGET saw a half-applied MSET: {vals:?}"
                    );
                    if vals[0].is_some() {
                        seen.fetch_add(1, Ordering::Relaxed);
                    }
                    reads += 1;
                }
                reads
            })
        })
        .collect();

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let mut con = s.conn();
            thread::spawn(move || {
                for i in 1..=MSETS_PER_WRITER {
                    check_time(start, "writer");
                    let v = format!("{w}:{i}");
                    let mut cmd = redis::cmd("MSET");
                    for k in KEYS {
                        cmd.arg(k).arg(&v);
                    }
                    let () = cmd.query(&mut con).unwrap();
                }
            })
        })
        .collect();

    for w in writers {
        w.join().expect("writer failed");
    }
    done.store(true, Ordering::SeqCst);
    let reads: usize = readers
        .into_iter()
        .map(|r| r.join().expect("reader failed"))
        .sum();
    assert!(reads > 0);
    assert!(
        reads_with_values.load(Ordering::Relaxed) > 0,
        "readers never overlapped the writers"
    );
    // The last MSET of some writer won, entirely.
    let mut con = s.conn();
    let vals: Vec<String> = redis::cmd("MGET").arg(&KEYS).query(&mut con).unwrap();
    assert!(vals.iter().all(|v| *v == vals[0]), "{vals:?}");
    assert!(
        vals[0].ends_with(&format!(":{MSETS_PER_WRITER}")),
        "{vals:?}"
    );
}

#[test]
fn rename_across_shards_is_atomic() {
    const RENAMES: usize = 2000;
    const READERS: usize = 3;
    let s = Server::start(4);
    let start = Instant::now();
    let mut setup = s.conn();
    // a is on shard 3, b on shard 0.
    let () = redis::cmd("SET")
        .arg("a")
        .arg("v")
        .query(&mut setup)
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));

    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let mut con = s.conn();
            let done = done.clone();
            thread::spawn(move || {
                let mut reads = 0usize;
                while !done.load(Ordering::SeqCst) {
                    check_time(start, "reader");
                    // The key exists exactly once under either name, whoever looks.
                    let n: i64 = redis::cmd("EXISTS")
                        .arg("a")
                        .arg("b")
                        .query(&mut con)
                        .unwrap();
                    assert_eq!(n, 1, "EXISTS a b during RENAMEs");
                    let vals: Vec<Option<String>> = redis::cmd("MGET")
                        .arg("a")
                        .arg("b")
                        .query(&mut con)
                        .unwrap();
                    assert_eq!(
                        vals.iter().filter(|v| v.is_some()).count(),
                        1,
                        "MGET a b during RENAMEs: {vals:?}"
                    );
                    if r == 0 {
                        // Whole-keyspace commands see it once too.
                        let size: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
                        assert_eq!(size, 1, "DBSIZE during RENAMEs");
                    }
                    reads += 1;
                }
                reads
            })
        })
        .collect();

    let writer = {
        let mut con = s.conn();
        thread::spawn(move || {
            for i in 0..RENAMES {
                check_time(start, "renamer");
                let (from, to) = if i % 2 == 0 { ("a", "b") } else { ("b", "a") };
                let () = redis::cmd("RENAME")
                    .arg(from)
                    .arg(to)
                    .query(&mut con)
                    .unwrap_or_else(|e| panic!("RENAME {from} {to} #{i}: {e}"));
            }
        })
    };
    writer.join().expect("renamer failed");
    done.store(true, Ordering::SeqCst);
    let reads: usize = readers
        .into_iter()
        .map(|r| r.join().expect("reader failed"))
        .sum();
    assert!(reads > 0);
    let vals: Vec<Option<String>> = redis::cmd("MGET")
        .arg("a")
        .arg("b")
        .query(&mut setup)
        .unwrap();
    assert_eq!(vals, vec![Some("v".to_string()), None]);
}

#[test]
#[allow(clippy::needless_range_loop)]
fn msetnx_has_one_winner() {
    const CLIENTS: usize = 4;
    const ROUNDS: usize = 200;
    let s = Server::start(4);
    let start = Instant::now();
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let handles: Vec<_> = (0..CLIENTS)
        .map(|t| {
            let mut con = s.conn();
            let barrier = barrier.clone();
            thread::spawn(move || {
                let mut wins = Vec::with_capacity(ROUNDS);
                for r in 0..ROUNDS {
                    check_time(start, "MSETNX client");
                    barrier.wait();
                    let mut cmd = redis::cmd("MSETNX");
                    for k in KEYS {
                        cmd.arg(format!("{k}:{r}")).arg(t);
                    }
                    let won: i64 = cmd.query(&mut con).unwrap();
                    wins.push(won);
                }
                wins
            })
        })
        .collect();
    let results: Vec<Vec<i64>> = handles
        .into_iter()
        .map(|h| h.join().expect("client failed"))
        .collect();
    let mut con = s.conn();
    for r in 0..ROUNDS {
        let winners: Vec<usize> = (0..CLIENTS).filter(|&t| results[t][r] == 1).collect();
        assert_eq!(winners.len(), 1, "round {r}: winners {winners:?}");
        let keys: Vec<String> = KEYS.iter().map(|k| format!("{k}:{r}")).collect();
        let vals: Vec<String> = redis::cmd("MGET").arg(&keys).query(&mut con).unwrap();
        assert!(
            vals.iter().all(|v| *v == winners[0].to_string()),
            "round {r}: {vals:?}"
        );
    }
}

#[test]
fn concurrent_counters_lose_no_updates() {
    const CLIENTS: usize = 4;
    const INCRS: i64 = 500;
    let s = Server::start(4);
    let start = Instant::now();
    let handles: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let mut con = s.conn();
            thread::spawn(move || {
                for _ in 0..INCRS {
                    check_time(start, "counter client");
                    // One single-shard and one cross-shard read-modify-write.
                    let _: i64 = redis::cmd("INCR").arg("a").query(&mut con).unwrap();
                    let _: i64 = redis::cmd("APPEND")
                        .arg("b")
                        .arg("x")
                        .query(&mut con)
                        .unwrap();
                    let _: i64 = redis::cmd("INCRBY")
                        .arg("c")
                        .arg(2)
                        .query(&mut con)
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("client failed");
    }
    let mut con = s.conn();
    let total = CLIENTS as i64 * INCRS;
    let a: i64 = redis::cmd("GET").arg("a").query(&mut con).unwrap();
    let b: i64 = redis::cmd("STRLEN").arg("b").query(&mut con).unwrap();
    let c: i64 = redis::cmd("GET").arg("c").query(&mut con).unwrap();
    assert_eq!((a, b, c), (total, total, 2 * total));
}

#[test]
fn copy_and_del_across_shards_are_atomic() {
    const ROUNDS: usize = 1000;
    let s = Server::start(4);
    let start = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let mut con = s.conn();
        let done = done.clone();
        thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                check_time(start, "reader");
                // c is written only by COPY from a (both keys of one round are set together),
                // and both are deleted together.
                let vals: Vec<Option<String>> = redis::cmd("MGET")
                    .arg("a")
                    .arg("c")
                    .query(&mut con)
                    .unwrap();
                if let (Some(x), Some(y)) = (&vals[0], &vals[1]) {
                    assert_eq!(x, y, "COPY seen half done");
                }
                let n: i64 = redis::cmd("EXISTS")
                    .arg("a")
                    .arg("d")
                    .query(&mut con)
                    .unwrap();
                assert!(n == 0 || n == 2, "DEL a d seen half done: EXISTS {n}");
            }
        })
    };
    let mut con = s.conn();
    for i in 0..ROUNDS {
        check_time(start, "writer");
        let v = i.to_string();
        let () = redis::cmd("MSET")
            .arg("a")
            .arg(&v)
            .arg("d")
            .arg(&v)
            .query(&mut con)
            .unwrap();
        let copied: i64 = redis::cmd("COPY")
            .arg("a")
            .arg("c")
            .arg("REPLACE")
            .query(&mut con)
            .unwrap();
        assert_eq!(copied, 1);
        let deleted: i64 = redis::cmd("DEL")
            .arg("a")
            .arg("c")
            .arg("d")
            .query(&mut con)
            .unwrap();
        assert_eq!(deleted, 3);
    }
    done.store(true, Ordering::SeqCst);
    reader.join().expect("reader failed");
    let size: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(size, 0);
}

#[test]
fn overlapping_multi_shard_pipelines_all_complete() {
    // Several clients pipeline multi-shard commands over the same keys at once; every request
    // must be answered (no deadlock between the shards' queues), in order.
    const CLIENTS: usize = 4;
    const ROUNDS: usize = 250;
    let s = Server::start(4);
    let start = Instant::now();
    let handles: Vec<_> = (0..CLIENTS)
        .map(|t| {
            let mut c = s.client();
            thread::spawn(move || {
                let mut batch = Vec::new();
                let mut expect = 0;
                for i in 0..ROUNDS {
                    let v = format!("{t}:{i}");
                    let mine = format!("own{t}");
                    batch.extend(common::encode(&[
                        "MSET", "a", &v, "b", &v, "c", &v, "d", &v,
                    ]));
                    batch.extend(common::encode(&["MGET", "d", "c", "b", "a"]));
                    batch.extend(common::encode(&["SET", &mine, &v]));
                    batch.extend(common::encode(&["COPY", &mine, "e", "REPLACE"]));
                    batch.extend(common::encode(&["RENAME", &mine, &format!("{mine}x")]));
                    batch.extend(common::encode(&["EXISTS", "a", "b", "c", "d", "e", "f"]));
                    batch.extend(common::encode(&["DEL", "f", "g", "h"]));
                    batch.extend(common::encode(&["DBSIZE"]));
                    expect += 8;
                }
                c.send_raw(&batch);
                for n in 0..expect {
                    check_time(start, "pipelined client");
                    let r = c.read();
                    match n % 8 {
                        0 => assert_eq!(r, common::Reply::ok()),
                        1 => {
                            let v = r.strings();
                            assert!(v.iter().all(|x| *x == v[0]), "MGET {v:?}");
                        }
                        2..=4 => assert!(!r.is_error(), "{r:?}"),
                        5 => assert_eq!(r, common::Reply::int(5)),
                        6 => assert_eq!(r, common::Reply::int(0)),
                        _ => assert!(r.as_int() >= 5, "{r:?}"),
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("client failed");
    }
}

#[test]
fn swapdb_and_flushall_are_atomic_with_multi_shard_writes() {
    // A writer MSETs all six keys at once in db 1; another client swaps db 0 and 1 and now and
    // then flushes everything. Each database must always hold all six keys with one value, or
    // none of them.
    const MSETS: usize = 1500;
    let s = Server::start(4);
    let start = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let swapper = {
        let mut con = s.conn();
        let done = done.clone();
        thread::spawn(move || {
            let mut n = 0u64;
            while !done.load(Ordering::SeqCst) {
                check_time(start, "swapper");
                let () = redis::cmd("SWAPDB").arg(0).arg(1).query(&mut con).unwrap();
                n += 1;
                if n % 50 == 0 {
                    let () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
                }
            }
            n
        })
    };
    let readers: Vec<_> = (0..2)
        .map(|db| {
            let mut con = s.conn();
            let done = done.clone();
            thread::spawn(move || {
                let () = redis::cmd("SELECT").arg(db).query(&mut con).unwrap();
                while !done.load(Ordering::SeqCst) {
                    check_time(start, "reader");
                    let vals: Vec<Option<String>> =
                        redis::cmd("MGET").arg(&KEYS).query(&mut con).unwrap();
                    assert!(
                        vals.iter().all(|v| *v == vals[0]),
                        "db {db}: MGET saw a torn state: {vals:?}"
                    );
                    let size: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
                    assert!(size == 0 || size == 6, "db {db}: DBSIZE {size}");
                }
            })
        })
        .collect();
    let mut con = s.conn();
    let () = redis::cmd("SELECT").arg(1).query(&mut con).unwrap();
    for i in 0..MSETS {
        check_time(start, "writer");
        let mut cmd = redis::cmd("MSET");
        for k in KEYS {
            cmd.arg(k).arg(i);
        }
        let () = cmd.query(&mut con).unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let swaps = swapper.join().expect("swapper failed");
    for r in readers {
        r.join().expect("reader failed");
    }
    assert!(swaps > 0);
}

/// MULTI/EXEC transactions that increment keys on every shard: readers never see a transaction
/// half applied, and no increment is lost between concurrent transactions.
#[test]
fn multi_exec_is_atomic_across_shards() {
    const WRITERS: usize = 2;
    const TXS_PER_WRITER: usize = 500;
    let s = Server::start(4);
    let start = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let mut con: Connection = s.conn();
        let done = done.clone();
        thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                check_time(start, "reader");
                let vals: Vec<Option<i64>> = redis::cmd("MGET").arg(&KEYS).query(&mut con).unwrap();
                assert!(
                    vals.iter().all(|v| *v == vals[0]),
                    "saw half a transaction: {vals:?}"
                );
            }
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            let mut con = s.conn();
            thread::spawn(move || {
                for _ in 0..TXS_PER_WRITER {
                    check_time(start, "writer");
                    let mut pipe = redis::pipe();
                    pipe.atomic();
                    for k in KEYS {
                        pipe.cmd("INCR").arg(k);
                    }
                    let counts: Vec<i64> = pipe.query(&mut con).unwrap();
                    assert!(counts.iter().all(|c| *c == counts[0]), "{counts:?}");
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer failed");
    }
    done.store(true, Ordering::SeqCst);
    reader.join().expect("reader failed");
    let mut con = s.conn();
    let vals: Vec<i64> = redis::cmd("MGET").arg(&KEYS).query(&mut con).unwrap();
    assert_eq!(vals, vec![(WRITERS * TXS_PER_WRITER) as i64; KEYS.len()]);
}
