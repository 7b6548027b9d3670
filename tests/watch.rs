//! WATCH / UNWATCH through the real binary with 4 shards: a write from another client (on any
//! shard), expiry and FLUSHALL make EXEC reply nil and run nothing; UNWATCH, DISCARD and EXEC
//! drop the watches; and optimistic increments from several clients never lose an update.
//! `FERRITE_IT_TARGET=redis` runs the same expectations against redis-server.

mod common;

use std::time::Duration;

use common::{Reply, Server, SPREAD_KEYS};

fn exec_after_watch(s: &Server, watched: &str, meddle: impl FnOnce(&mut common::Client)) -> Reply {
    let mut c = s.client();
    let mut other = s.client();
    assert_eq!(c.cmd(&["WATCH", watched]), Reply::ok());
    meddle(&mut other);
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["SET", "result", "ran"]), Reply::status("QUEUED"));
    c.cmd(&["EXEC"])
}

#[test]
fn a_write_by_another_client_on_any_shard_aborts_exec() {
    let s = Server::start(4);
    for key in SPREAD_KEYS {
        s.client().cmd(&["DEL", "result"]);
        s.client().cmd(&["SET", key, "0"]);
        let reply = exec_after_watch(&s, key, |o| {
            o.cmd(&["INCR", key]);
        });
        assert_eq!(reply, Reply::NilArray, "watching {key}");
        assert_eq!(
            s.client().cmd(&["EXISTS", "result"]),
            Reply::int(0),
            "nothing ran"
        );
    }
    // The same value written again still counts as a change.
    s.client().cmd(&["SET", "same", "v"]);
    let reply = exec_after_watch(&s, "same", |o| {
        o.cmd(&["SET", "same", "v"]);
    });
    assert_eq!(reply, Reply::NilArray);
    // A multi-shard write (MSET across shards) breaks the watch too.
    let reply = exec_after_watch(&s, SPREAD_KEYS[1], |o| {
        o.cmd(&[
            "MSET",
            SPREAD_KEYS[0],
            "1",
            SPREAD_KEYS[1],
            "1",
            SPREAD_KEYS[2],
            "1",
        ]);
    });
    assert_eq!(reply, Reply::NilArray);
}

#[test]
fn untouched_watches_let_exec_run() {
    let s = Server::start(4);
    let reply = exec_after_watch(&s, SPREAD_KEYS[2], |o| {
        o.cmd(&["SET", "unrelated", "x"]);
        o.cmd(&["GET", SPREAD_KEYS[2]]);
    });
    assert_eq!(reply, Reply::arr(vec![Reply::ok()]));
    assert_eq!(s.client().cmd(&["GET", "result"]), Reply::bulk("ran"));
}

#[test]
fn expiry_and_flushall_break_watches() {
    let s = Server::start(4);
    // The key must still exist when WATCH runs: 300 ms leaves room on a busy machine.
    s.client().cmd(&["SET", "short", "v", "PX", "300"]);
    let reply = exec_after_watch(&s, "short", |_| {
        std::thread::sleep(Duration::from_millis(600))
    });
    assert_eq!(reply, Reply::NilArray, "the watched key expired");
    s.client().cmd(&["SET", "flushed", "v"]);
    let reply = exec_after_watch(&s, "flushed", |o| {
        o.cmd(&["FLUSHALL"]);
    });
    assert_eq!(reply, Reply::NilArray, "FLUSHALL touched the watched key");
}

#[test]
fn unwatch_discard_and_exec_drop_watches() {
    let s = Server::start(4);
    let mut c = s.client();
    let mut other = s.client();
    c.cmd(&["SET", "k", "1"]);
    assert_eq!(c.cmd(&["WATCH", "k", SPREAD_KEYS[3]]), Reply::ok());
    other.cmd(&["SET", "k", "2"]);
    assert_eq!(c.cmd(&["UNWATCH"]), Reply::ok());
    c.cmd(&["MULTI"]);
    c.cmd(&["GET", "k"]);
    assert_eq!(c.cmd(&["EXEC"]), Reply::arr(vec![Reply::bulk("2")]));
    // DISCARD forgets them too.
    c.cmd(&["WATCH", "k"]);
    c.cmd(&["MULTI"]);
    assert_eq!(c.cmd(&["DISCARD"]), Reply::ok());
    other.cmd(&["SET", "k", "3"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["GET", "k"]);
    assert_eq!(c.cmd(&["EXEC"]), Reply::arr(vec![Reply::bulk("3")]));
    // EXEC forgets them: a later write does not affect the next transaction.
    c.cmd(&["WATCH", "k"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["GET", "k"]);
    c.cmd(&["EXEC"]);
    other.cmd(&["SET", "k", "4"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["GET", "k"]);
    assert_eq!(c.cmd(&["EXEC"]), Reply::arr(vec![Reply::bulk("4")]));
    // WATCH inside MULTI is refused; the transaction is still queued.
    c.cmd(&["MULTI"]);
    assert_eq!(
        c.cmd(&["WATCH", "k"]),
        Reply::err("ERR WATCH inside MULTI is not allowed")
    );
    assert_eq!(c.cmd(&["EXEC"]), Reply::arr(vec![]));
    assert_eq!(
        c.cmd(&["WATCH"]),
        Reply::err("ERR wrong number of arguments for 'watch' command")
    );
}

#[test]
fn optimistic_increments_from_several_clients_lose_nothing() {
    let s = Server::start(4);
    let counters = [SPREAD_KEYS[0], SPREAD_KEYS[1]];
    for k in counters {
        s.client().cmd(&["SET", k, "0"]);
    }
    let addr = s.addr();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = common::Client::connect(addr);
                let mut done = 0;
                let mut attempts = 0;
                while done < 50 && attempts < 5000 {
                    attempts += 1;
                    c.cmd(&["WATCH", counters[0], counters[1]]);
                    let a: i64 = c.cmd(&["GET", counters[0]]).text().parse().unwrap();
                    let b: i64 = c.cmd(&["GET", counters[1]]).text().parse().unwrap();
                    c.cmd(&["MULTI"]);
                    c.cmd(&["SET", counters[0], &(a + 1).to_string()]);
                    c.cmd(&["SET", counters[1], &(b + 1).to_string()]);
                    if c.cmd(&["EXEC"]) != Reply::NilArray {
                        done += 1;
                    }
                }
                done
            })
        })
        .collect();
    let total: i64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(total, 200, "every worker finished");
    let mut c = s.client();
    assert_eq!(c.cmd(&["GET", counters[0]]), Reply::bulk(total.to_string()));
    assert_eq!(c.cmd(&["GET", counters[1]]), Reply::bulk(total.to_string()));
}
