//! Bitmap commands against the real `ferrite` binary with four shards: SETBIT GETBIT BITCOUNT
//! BITPOS BITOP BITFIELD BITFIELD_RO, their options and error texts, RESP3 reply shapes, BITOP
//! across shards (atomic, keys from `SPREAD_KEYS`), a differential run against Debian's
//! redis-server 7.0, and a property test of SETBIT/BITFIELD against a bit-vector model.

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use common::{Reply, Server, SPREAD_KEYS};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const SYNTAX: &str = "ERR syntax error";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const BAD_BIT: &str = "ERR bit is not an integer or out of range";
const BAD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

fn ints(v: &[i64]) -> Reply {
    Reply::arr(v.iter().map(|&n| Reply::int(n)).collect())
}

#[test]
fn setbit_and_getbit() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "SETBIT k 7 1", Reply::int(0));
    check!(c, "GET k", Reply::bulk([1u8]));
    check!(c, "SETBIT k 7 1", Reply::int(1));
    check!(c, "SETBIT k 7 0", Reply::int(1));
    check!(c, "SETBIT k 0 1", Reply::int(0));
    check!(c, "GET k", Reply::bulk([0x80u8]));
    // Growing pads with zero bytes.
    check!(c, "SETBIT k 23 1", Reply::int(0));
    check!(c, "STRLEN k", Reply::int(3));
    check!(c, "GET k", Reply::bulk([0x80u8, 0, 1]));
    check!(c, "GETBIT k 0", Reply::int(1));
    check!(c, "GETBIT k 1", Reply::int(0));
    check!(c, "GETBIT k 23", Reply::int(1));
    check!(c, "GETBIT k 100000", Reply::int(0));
    check!(c, "GETBIT nokey 3", Reply::int(0));
    // Setting a clear bit on a new key still creates it.
    check!(c, "SETBIT fresh 10 0", Reply::int(0));
    check!(c, "GET fresh", Reply::bulk([0u8, 0]));
    // On an existing string, and keeping its TTL.
    c.setup("SET str a EX 100");
    check!(c, "GETBIT str 1", Reply::int(1));
    check!(c, "GETBIT str 2", Reply::int(1));
    check!(c, "GETBIT str 3", Reply::int(0));
    check!(c, "SETBIT str 6 1", Reply::int(0));
    check!(c, "GET str", Reply::bulk("c"));
    assert!(c.line("TTL str").as_int() > 0);
    // Integers are strings of digits.
    c.setup("SET n 1");
    check!(c, "GETBIT n 2", Reply::int(1));
    check!(c, "GETBIT n 7", Reply::int(1));
    check!(c, "GETBIT n 6", Reply::int(0));
    // Errors: the offset is checked first, then the value, then the type.
    c.setup("LPUSH list a");
    check!(c, "SETBIT k -1 1", Reply::err(BAD_OFFSET));
    check!(c, "SETBIT k x 1", Reply::err(BAD_OFFSET));
    check!(c, "SETBIT k 4294967296 1", Reply::err(BAD_OFFSET));
    check!(c, "SETBIT k 1 2", Reply::err(BAD_BIT));
    check!(c, "SETBIT k 1 -1", Reply::err(BAD_BIT));
    check!(c, "SETBIT k 1 x", Reply::err(BAD_BIT));
    check!(c, "SETBIT list 1 1", Reply::err(WRONGTYPE));
    check!(c, "SETBIT list x 1", Reply::err(BAD_OFFSET));
    check!(c, "GETBIT list 0", Reply::err(WRONGTYPE));
    check!(c, "GETBIT list -1", Reply::err(BAD_OFFSET));
    check!(c, "GETBIT k 4294967296", Reply::err(BAD_OFFSET));
    check!(
        c,
        "SETBIT k",
        Reply::err("ERR wrong number of arguments for 'setbit' command")
    );
}

#[test]
fn setbit_offset_cap_follows_proto_max_bulk_len() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "CONFIG SET proto-max-bulk-len 1048576", Reply::ok());
    // The byte holding the bit must be below the limit.
    check!(c, "SETBIT k 8388608 1", Reply::err(BAD_OFFSET));
    check!(c, "SETBIT k 8388607 1", Reply::int(0));
    check!(c, "STRLEN k", Reply::int(1048576));
    // BITFIELD checks where a field starts, not where it ends.
    check!(c, "BITFIELD k SET u8 8388600 2", ints(&[1]));
    check!(c, "STRLEN k", Reply::int(1048576));
    check!(c, "BITFIELD k SET u8 8388608 1", Reply::err(BAD_OFFSET));
    check!(c, "BITFIELD k GET u8 #1048576", Reply::err(BAD_OFFSET));
    check!(
        c,
        "BITFIELD k GET u8 #1048575 GET u16 8388600",
        ints(&[2, 512])
    );
}

#[test]
fn bitcount_ranges() {
    let s = Server::start(4);
    let mut c = s.client();
    c.setup("SET k foobar");
    check!(c, "BITCOUNT k", Reply::int(26));
    check!(c, "BITCOUNT k 0 0", Reply::int(4));
    check!(c, "BITCOUNT k 1 1", Reply::int(6));
    check!(c, "BITCOUNT k 1 1 BYTE", Reply::int(6));
    check!(c, "BITCOUNT k 5 30 BIT", Reply::int(17));
    check!(c, "BITCOUNT k 5 30 bit", Reply::int(17));
    check!(c, "BITCOUNT k 0 -1", Reply::int(26));
    check!(c, "BITCOUNT k -2 -1", Reply::int(7));
    check!(c, "BITCOUNT k -100 100", Reply::int(26));
    check!(c, "BITCOUNT k 3 1", Reply::int(0));
    check!(c, "BITCOUNT k -1 -2", Reply::int(0));
    check!(c, "BITCOUNT k 0 0 BIT", Reply::int(0));
    check!(c, "BITCOUNT k 1 1 BIT", Reply::int(1));
    check!(c, "BITCOUNT k -1 -1 BIT", Reply::int(0));
    check!(c, "BITCOUNT k 47 47 BIT", Reply::int(0));
    check!(c, "BITCOUNT nokey", Reply::int(0));
    // Redis 7.0 answers a missing key before it reads the range.
    check!(c, "BITCOUNT nokey x y", Reply::int(0));
    check!(c, "BITCOUNT nokey 0", Reply::int(0));
    check!(c, "BITCOUNT k 0", Reply::err(SYNTAX));
    check!(c, "BITCOUNT k 0 1 FOO", Reply::err(SYNTAX));
    check!(c, "BITCOUNT k -1 -2 FOO", Reply::int(0));
    check!(c, "BITCOUNT k 0 1 BIT x", Reply::err(SYNTAX));
    check!(c, "BITCOUNT k x 1", Reply::err(NOT_INT));
    check!(c, "BITCOUNT k 0 y", Reply::err(NOT_INT));
    c.setup("LPUSH list a");
    check!(c, "BITCOUNT list", Reply::err(WRONGTYPE));
    check!(c, "BITCOUNT list x y", Reply::err(WRONGTYPE));
    c.setup("SET empty \"\"");
    check!(c, "BITCOUNT empty", Reply::int(0));
    check!(c, "BITCOUNT empty 0 -1 BIT", Reply::int(0));
}

#[test]
fn bitpos_cases() {
    let s = Server::start(4);
    let mut c = s.client();
    c.cmd(&[&b"SET"[..], b"k", &[0x00, 0xff, 0xf0]]);
    check!(c, "BITPOS k 1", Reply::int(8));
    check!(c, "BITPOS k 0", Reply::int(0));
    check!(c, "BITPOS k 1 2", Reply::int(16));
    check!(c, "BITPOS k 0 1", Reply::int(20));
    check!(c, "BITPOS k 0 1 1", Reply::int(-1));
    check!(c, "BITPOS k 1 -1", Reply::int(16));
    check!(c, "BITPOS k 1 7 15 BIT", Reply::int(8));
    check!(c, "BITPOS k 0 8 15 BIT", Reply::int(-1));
    check!(c, "BITPOS k 0 9 -1 BIT", Reply::int(20));
    check!(c, "BITPOS k 0 9 BIT", Reply::err(NOT_INT));
    check!(c, "BITPOS k 0 9 -5 BIT", Reply::int(-1));
    check!(c, "BITPOS k 0 9 -4 BIT", Reply::int(20));
    check!(c, "BITPOS k 1 3 2", Reply::int(-1));
    check!(c, "BITPOS k 0 3 2", Reply::int(-1));
    check!(c, "BITPOS k 1 0 0 BYTE", Reply::int(-1));
    // All ones: a clear bit is found just past the string unless the range is closed.
    c.cmd(&[&b"SET"[..], b"ones", &[0xff, 0xff]]);
    check!(c, "BITPOS ones 0", Reply::int(16));
    check!(c, "BITPOS ones 0 1", Reply::int(16));
    check!(c, "BITPOS ones 0 0 -1", Reply::int(-1));
    check!(c, "BITPOS ones 0 3", Reply::int(-1));
    check!(c, "BITPOS ones 0 3 15 BIT", Reply::int(-1));
    check!(c, "BITPOS nokey 1", Reply::int(-1));
    check!(c, "BITPOS nokey 0", Reply::int(0));
    check!(c, "BITPOS nokey 0 x", Reply::int(0));
    c.setup("SET empty \"\"");
    check!(c, "BITPOS empty 0", Reply::int(-1));
    check!(c, "BITPOS empty 1", Reply::int(-1));
    check!(
        c,
        "BITPOS k 2",
        Reply::err("ERR The bit argument must be 1 or 0.")
    );
    check!(c, "BITPOS k x", Reply::err(NOT_INT));
    check!(c, "BITPOS k 1 x", Reply::err(NOT_INT));
    check!(c, "BITPOS k 1 0 x", Reply::err(NOT_INT));
    check!(c, "BITPOS k 1 0 x FOO", Reply::err(SYNTAX));
    check!(c, "BITPOS k 1 0 1 BIT x", Reply::err(SYNTAX));
    c.setup("LPUSH list a");
    check!(c, "BITPOS list 1", Reply::err(WRONGTYPE));
    check!(
        c,
        "BITPOS list 3",
        Reply::err("ERR The bit argument must be 1 or 0.")
    );
}

#[test]
fn bitop_every_operation_across_shards() {
    let s = Server::start(4);
    let mut c = s.client();
    let [a, b, d, e, ..] = SPREAD_KEYS;
    c.cmd(&[&b"SET"[..], a.as_bytes(), &[0b1100_1100, 0xff]]);
    c.cmd(&[&b"SET"[..], b.as_bytes(), &[0b1010_1010]]);
    check!(c, &format!("BITOP AND {d} {a} {b}"), Reply::int(2));
    check!(c, &format!("GET {d}"), Reply::bulk([0b1000_1000u8, 0]));
    check!(c, &format!("BITOP or {d} {a} {b}"), Reply::int(2));
    check!(c, &format!("GET {d}"), Reply::bulk([0b1110_1110u8, 0xff]));
    check!(c, &format!("BITOP XOR {d} {a} {b}"), Reply::int(2));
    check!(c, &format!("GET {d}"), Reply::bulk([0b0110_0110u8, 0xff]));
    check!(c, &format!("BITOP NOT {d} {a}"), Reply::int(2));
    check!(c, &format!("GET {d}"), Reply::bulk([0b0011_0011u8, 0]));
    // A missing source is an empty string.
    check!(c, &format!("BITOP AND {d} {a} nokey"), Reply::int(2));
    check!(c, &format!("GET {d}"), Reply::bulk([0u8, 0]));
    check!(c, &format!("BITOP OR {d} {a} {d} {e}"), Reply::int(2));
    check!(c, &format!("GET {d}"), Reply::bulk([0b1100_1100u8, 0xff]));
    // The destination is replaced whatever it held, and loses its TTL.
    c.line(&format!("RPUSH {e} x"));
    c.line(&format!("EXPIRE {e} 100"));
    check!(c, &format!("BITOP NOT {e} {b}"), Reply::int(1));
    check!(c, &format!("GET {e}"), Reply::bulk([0b0101_0101u8]));
    check!(c, &format!("TTL {e}"), Reply::int(-1));
    // All sources empty: the destination is deleted.
    check!(c, &format!("BITOP OR {d} nokey1 nokey2"), Reply::int(0));
    check!(c, &format!("EXISTS {d}"), Reply::int(0));
    // Errors.
    check!(c, &format!("BITOP NAND {d} {a}"), Reply::err(SYNTAX));
    check!(
        c,
        &format!("BITOP NOT {d} {a} {b}"),
        Reply::err("ERR BITOP NOT must be called with a single source key.")
    );
    c.line("RPUSH list x");
    check!(c, &format!("BITOP AND {d} {a} list"), Reply::err(WRONGTYPE));
    check!(
        c,
        "BITOP AND d",
        Reply::err("ERR wrong number of arguments for 'bitop' command")
    );
}

/// BITOP XOR of two keys on different shards, while another client keeps changing both with
/// one MSET: an atomic BITOP never sees one key changed without the other, so the XOR is zero.
#[test]
fn bitop_across_shards_is_atomic() {
    let s = Server::start(4);
    let (a, b, d) = (SPREAD_KEYS[0], SPREAD_KEYS[1], SPREAD_KEYS[2]);
    let mut writer = s.client();
    writer.cmd(&["MSET", a, "v0", b, "v0"]);
    let stop = Instant::now() + Duration::from_millis(1500);
    let handle = std::thread::spawn(move || {
        let mut n = 0u64;
        while Instant::now() < stop {
            let v = format!("value-{n}");
            assert_eq!(writer.cmd(&["MSET", a, &v, b, &v]), Reply::ok());
            n += 1;
        }
    });
    let mut c = s.client();
    let mut runs = 0;
    while Instant::now() < stop {
        let len = c.cmd(&["BITOP", "XOR", d, a, b]).as_int();
        let got = c.cmd(&["GET", d]);
        assert_eq!(got, Reply::bulk(vec![0u8; len as usize]), "run {runs}");
        assert_eq!(c.cmd(&["BITCOUNT", d]), Reply::int(0));
        runs += 1;
    }
    handle.join().unwrap();
    assert!(runs > 10, "only {runs} runs");
}

#[test]
fn bitfield_operations() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "BITFIELD k SET i8 0 100 GET i8 0", ints(&[0, 100]));
    check!(c, "BITFIELD k INCRBY i8 0 27", ints(&[127]));
    // WRAP is the default.
    check!(c, "BITFIELD k INCRBY i8 0 1", ints(&[-128]));
    check!(
        c,
        "BITFIELD k OVERFLOW SAT INCRBY i8 0 -1000",
        ints(&[-128])
    );
    check!(c, "BITFIELD k OVERFLOW SAT INCRBY i8 0 1000", ints(&[127]));
    check!(
        c,
        "BITFIELD k OVERFLOW FAIL INCRBY i8 0 1 GET i8 0",
        Reply::arr(vec![Reply::nil(), Reply::int(127)])
    );
    check!(c, "BITFIELD k OVERFLOW fail INCRBY u2 100 1", ints(&[1]));
    check!(
        c,
        "BITFIELD k OVERFLOW FAIL INCRBY u2 100 3",
        Reply::arr(vec![Reply::nil()])
    );
    check!(c, "BITFIELD k OVERFLOW WRAP INCRBY u2 100 3", ints(&[0]));
    // Unsigned SET of a negative value: huge, so WRAP keeps the low bits, SAT the maximum.
    check!(c, "BITFIELD u SET u8 0 -1 GET u8 0", ints(&[0, 255]));
    check!(
        c,
        "BITFIELD u OVERFLOW SAT SET u8 0 -1 GET u8 0",
        ints(&[255, 255])
    );
    check!(
        c,
        "BITFIELD u OVERFLOW SAT SET u8 0 256 GET u8 0",
        ints(&[255, 255])
    );
    check!(c, "BITFIELD u SET u8 0 257 GET u8 0", ints(&[255, 1]));
    // #N offsets are in units of the type's width.
    check!(
        c,
        "BITFIELD h SET u8 #1 200 GET u8 8 GET u4 #2",
        ints(&[0, 200, 12])
    );
    check!(c, "GET h", Reply::bulk([0u8, 200]));
    // 64-bit signed and 63-bit unsigned limits.
    check!(
        c,
        "BITFIELD w SET i64 0 9223372036854775807 INCRBY i64 0 1",
        ints(&[0, i64::MIN])
    );
    check!(
        c,
        "BITFIELD w OVERFLOW SAT INCRBY i64 0 -1",
        ints(&[i64::MIN])
    );
    check!(
        c,
        "BITFIELD w SET u63 0 9223372036854775807 GET u63 0",
        ints(&[4611686018427387904, 9223372036854775807])
    );
    // GETs past the end read zeros and do not create or grow the key.
    check!(c, "BITFIELD nokey GET u8 0 GET i5 1000", ints(&[0, 0]));
    check!(c, "EXISTS nokey", Reply::int(0));
    check!(c, "BITFIELD nokey", Reply::arr(vec![]));
    // Writes grow the string to their highest bit, even when FAIL refuses them.
    check!(
        c,
        "BITFIELD g OVERFLOW FAIL SET u2 30 7",
        Reply::arr(vec![Reply::nil()])
    );
    check!(c, "STRLEN g", Reply::int(4));
    check!(c, "BITFIELD_RO g GET u32 0", ints(&[0]));
    check!(c, "BITFIELD_RO nokey", Reply::arr(vec![]));
    // Errors.
    check!(c, "BITFIELD k GET u64 0", Reply::err(BAD_TYPE));
    check!(c, "BITFIELD k GET i65 0", Reply::err(BAD_TYPE));
    check!(c, "BITFIELD k GET i0 0", Reply::err(BAD_TYPE));
    check!(c, "BITFIELD k GET x8 0", Reply::err(BAD_TYPE));
    check!(c, "BITFIELD k GET u 0", Reply::err(BAD_TYPE));
    check!(c, "BITFIELD k GET i+8 0", Reply::err(BAD_TYPE));
    check!(c, "BITFIELD k GET i8 -1", Reply::err(BAD_OFFSET));
    check!(c, "BITFIELD k GET i8 #-1", Reply::err(BAD_OFFSET));
    check!(c, "BITFIELD k GET i8 x", Reply::err(BAD_OFFSET));
    check!(c, "BITFIELD k SET i8 0 x", Reply::err(NOT_INT));
    check!(c, "BITFIELD k INCRBY i8 0", Reply::err(SYNTAX));
    check!(c, "BITFIELD k GET i8", Reply::err(SYNTAX));
    check!(c, "BITFIELD k FOO", Reply::err(SYNTAX));
    check!(c, "BITFIELD k OVERFLOW", Reply::err(SYNTAX));
    check!(
        c,
        "BITFIELD k OVERFLOW MAYBE GET i8 0",
        Reply::err("ERR Invalid OVERFLOW type specified")
    );
    check!(
        c,
        "BITFIELD_RO k GET i8 0 SET i8 0 1",
        Reply::err("ERR BITFIELD_RO only supports the GET subcommand")
    );
    check!(c, "BITFIELD_RO k INCRBY x 0 1", Reply::err(BAD_TYPE));
    c.setup("LPUSH list a");
    check!(c, "BITFIELD list GET u8 0", Reply::err(WRONGTYPE));
    check!(c, "BITFIELD list SET u8 0 1", Reply::err(WRONGTYPE));
    check!(c, "BITFIELD list", Reply::err(WRONGTYPE));
    check!(c, "BITFIELD_RO list GET u8 0", Reply::err(WRONGTYPE));
}

#[test]
fn resp3_shapes() {
    let s = Server::start(4);
    let mut c = s.client();
    assert!(matches!(c.cmd(&["HELLO", "3"]), Reply::Map(_)));
    check!(c, "SETBIT k 1 1", Reply::int(0));
    check!(
        c,
        "BITFIELD k OVERFLOW FAIL INCRBY u1 1 1 GET u2 0",
        Reply::arr(vec![Reply::Null, Reply::int(1)])
    );
    check!(c, "BITPOS k 1", Reply::int(1));
    check!(c, "BITCOUNT k", Reply::int(1));
    check!(c, "BITOP NOT d k", Reply::int(1));
    assert_eq!(
        c.cmd_raw(&["BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u1", "1", "2"]),
        b"*1\r\n_\r\n"
    );
    let mut c2 = s.client();
    assert_eq!(
        c2.cmd_raw(&["BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u1", "1", "2"]),
        b"*1\r\n$-1\r\n"
    );
}

#[test]
fn command_info_lists_bitmap_category() {
    let s = Server::start(4);
    let mut c = s.client();
    for (cmd, cats) in [
        ("setbit", "@write @bitmap @slow"),
        ("getbit", "@read @bitmap @fast"),
        ("bitop", "@write @bitmap @slow"),
        ("bitfield_ro", "@read @bitmap @fast"),
    ] {
        let info = c.cmd(&["COMMAND", "INFO", cmd]);
        let entry = &info.items()[0];
        let got: Vec<String> = entry.items()[6].strings();
        assert_eq!(got.join(" "), cats, "{cmd}");
    }
    let info = c.cmd(&["COMMAND", "INFO", "bitop"]);
    let entry = &info.items()[0];
    assert_eq!(entry.items()[1], Reply::int(-4));
    assert_eq!(&entry.items()[3..6], ints(&[2, -1, 1]).items());
}

// ---- differential --------------------------------------------------------------------------

/// Lines run against both servers; replies must be byte-equal.
const DIFF_LINES: &[&str] = &[
    "SETBIT b 0 1",
    "SETBIT b 100 1",
    "SETBIT b 100 0",
    "SETBIT b 7 x",
    "SETBIT b -1 1",
    "SETBIT b 1 5",
    "GET b",
    "GETBIT b 0",
    "GETBIT b 1000",
    "GETBIT b #1",
    "SET s foobar",
    "APPEND s \u{7f}",
    "BITCOUNT s",
    "BITCOUNT s 1 3",
    "BITCOUNT s -3 -1",
    "BITCOUNT s 3 25 BIT",
    "BITCOUNT s -9 -2 BIT",
    "BITCOUNT s 0 0 byte",
    "BITCOUNT s 0",
    "BITCOUNT s 0 1 2",
    "BITCOUNT s -1 -5 nonsense",
    "BITCOUNT missing 1",
    "BITPOS s 1",
    "BITPOS s 0",
    "BITPOS s 0 2",
    "BITPOS s 1 -2 -1",
    "BITPOS s 0 10 20 BIT",
    "BITPOS s 1 13 13 BIT",
    "BITPOS s 1 14 14 BIT",
    "BITPOS s 0 49 BIT",
    "BITPOS s 0 49 55 BIT",
    "BITPOS s 0 100",
    "BITPOS s 1 1 0",
    "BITPOS s 5",
    "BITPOS s 1 0 1 bad",
    "BITPOS missing 0 1 2 BIT",
    "SET ones \u{7f}",
    "SETBIT ones 0 1",
    "BITPOS ones 0",
    "BITPOS ones 0 0 0",
    "BITPOS ones 0 0",
    "BITPOS ones 0 2 BIT",
    "BITPOS ones 0 2 7 BIT",
    "BITOP AND and s b",
    "GET and",
    "BITOP OR or s b missing",
    "GET or",
    "BITOP XOR xor s b s",
    "GET xor",
    "BITOP NOT not s",
    "GET not",
    "BITOP NOT not s b",
    "BITOP bad d s",
    "BITOP AND and missing",
    "EXISTS and",
    "BITFIELD f SET i5 3 -7 GET i5 3 GET u5 3 INCRBY i5 3 20 GET u16 0",
    "BITFIELD f OVERFLOW SAT INCRBY i5 3 100 INCRBY u3 #5 -20 OVERFLOW FAIL INCRBY u3 #5 9",
    "BITFIELD f SET i64 64 -9223372036854775808 INCRBY i64 64 -1 OVERFLOW SAT INCRBY i64 64 -1",
    "BITFIELD f OVERFLOW WRAP SET u63 1 -5 GET u63 1 GET i64 1",
    "BITFIELD f SET u8 #3 256 SET i8 #4 128 OVERFLOW SAT SET i8 #4 -129 SET u8 #3 -1",
    "BITFIELD f INCRBY u1 0 1 INCRBY u1 0 1 OVERFLOW SAT INCRBY u1 0 5",
    "GET f",
    "BITFIELD f GET u64 0",
    "BITFIELD f GET i0 0",
    "BITFIELD f GET i8 #x",
    "BITFIELD f OVERFLOW nope",
    "BITFIELD f SET i8 0",
    "BITFIELD_RO f GET i8 0 GET u4 #3",
    "BITFIELD_RO f INCRBY i8 0 1",
    "BITFIELD missing GET i8 0",
    "EXISTS missing",
    "RPUSH l a",
    "SETBIT l 0 1",
    "GETBIT l 0",
    "BITCOUNT l",
    "BITPOS l 0",
    "BITOP OR d s l",
    "BITFIELD l GET i8 0",
    "BITFIELD_RO l GET i8 0",
    "SET n 12345",
    "SETBIT n 3 1",
    "GET n",
    "BITCOUNT n",
    "BITFIELD n INCRBY u8 0 1",
    "GET n",
];

#[test]
fn bitmaps_match_redis() {
    common::assert_matches_redis(DIFF_LINES);
}

// ---- property test: SETBIT / BITFIELD against a bit-vector model ----------------------------

#[derive(Clone, Debug)]
enum Op {
    SetBit(u64, bool),
    GetBit(u64),
    /// (signed, bits, offset, op, overflow): op 0 GET, 1 SET v, 2 INCRBY v.
    Field(bool, u32, u64, u8, i64, u8),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let value = prop_oneof![
        -300i64..300,
        Just(i64::MAX),
        Just(i64::MIN),
        any::<i64>(),
        Just(-1i64)
    ];
    prop_oneof![
        (0u64..160, any::<bool>()).prop_map(|(o, v)| Op::SetBit(o, v)),
        (0u64..200).prop_map(Op::GetBit),
        (any::<bool>(), 1u32..=64, 0u64..120, 0u8..3, value, 0u8..3).prop_map(
            |(signed, bits, off, op, v, ow)| {
                let bits = if signed { bits } else { bits.min(63) };
                Op::Field(signed, bits, off, op, v, ow)
            }
        ),
    ]
}

/// The model: the string's bytes, and whether the key exists.
#[derive(Default)]
struct Model {
    bytes: Vec<u8>,
    exists: bool,
}

impl Model {
    fn grow(&mut self, bit: u64) {
        let len = (bit / 8 + 1) as usize;
        if self.bytes.len() < len {
            self.bytes.resize(len, 0);
        }
        self.exists = true;
    }

    fn bit(&self, i: u64) -> bool {
        self.bytes
            .get((i / 8) as usize)
            .is_some_and(|b| b & (0x80 >> (i % 8)) != 0)
    }

    fn set(&mut self, i: u64, on: bool) {
        let b = &mut self.bytes[(i / 8) as usize];
        if on {
            *b |= 0x80 >> (i % 8);
        } else {
            *b &= !(0x80 >> (i % 8));
        }
    }

    /// The field as an unbounded integer.
    fn field(&self, signed: bool, bits: u32, off: u64) -> i128 {
        let mut u: i128 = 0;
        for j in 0..bits as u64 {
            u = (u << 1) | self.bit(off + j) as i128;
        }
        if signed && u >= 1i128 << (bits - 1) {
            u - (1i128 << bits)
        } else {
            u
        }
    }

    fn store(&mut self, bits: u32, off: u64, v: i128) {
        let u = v.rem_euclid(1i128 << bits);
        for j in 0..bits as u64 {
            self.set(off + j, (u >> (bits as u64 - 1 - j)) & 1 == 1);
        }
    }

    /// Applies one op, returning the reply Redis gives.
    fn apply(&mut self, op: &Op) -> Reply {
        match *op {
            Op::SetBit(o, v) => {
                self.grow(o);
                let old = self.bit(o);
                self.set(o, v);
                Reply::int(old as i64)
            }
            Op::GetBit(o) => Reply::int(self.bit(o) as i64),
            Op::Field(signed, bits, off, kind, v, ow) => {
                let old = self.field(signed, bits, off);
                if kind == 0 {
                    return Reply::arr(vec![Reply::int(old as i64)]);
                }
                self.grow(off + bits as u64 - 1);
                let (min, max) = if signed {
                    (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
                } else {
                    (0, (1i128 << bits) - 1)
                };
                let target: i128 = if kind == 1 {
                    // Redis reads an unsigned SET value as a u64: a negative one is huge.
                    if signed {
                        v as i128
                    } else {
                        v as u64 as i128
                    }
                } else {
                    old + v as i128
                };
                // Redis's quirk: a signed SET so far below the range that `max - value`
                // overflows an i64 counts as an overflow upwards (SAT stores the maximum).
                let up = target > max
                    || (kind == 1 && signed && bits < 64 && max - target > i64::MAX as i128);
                let stored = if (min..=max).contains(&target) {
                    target
                } else {
                    match ow {
                        0 => {
                            let w = target.rem_euclid(1i128 << bits);
                            if signed && w > max {
                                w - (1i128 << bits)
                            } else {
                                w
                            }
                        }
                        1 if up => max,
                        1 => min,
                        _ => return Reply::arr(vec![Reply::nil()]),
                    }
                };
                self.store(bits, off, stored);
                let reply = if kind == 1 { old } else { stored };
                Reply::arr(vec![Reply::int(reply as i64)])
            }
        }
    }
}

fn op_args(op: &Op) -> Vec<String> {
    match *op {
        Op::SetBit(o, v) => vec![
            "SETBIT".into(),
            "p".into(),
            o.to_string(),
            (v as u8).to_string(),
        ],
        Op::GetBit(o) => vec!["GETBIT".into(), "p".into(), o.to_string()],
        Op::Field(signed, bits, off, kind, v, ow) => {
            let ty = format!("{}{bits}", if signed { 'i' } else { 'u' });
            let ow = ["WRAP", "SAT", "FAIL"][ow as usize];
            let mut a = vec!["BITFIELD".into(), "p".into(), "OVERFLOW".into(), ow.into()];
            match kind {
                0 => a.extend(["GET".into(), ty, off.to_string()]),
                1 => a.extend(["SET".into(), ty, off.to_string(), v.to_string()]),
                _ => a.extend(["INCRBY".into(), ty, off.to_string(), v.to_string()]),
            }
            a
        }
    }
}

#[test]
fn setbit_and_bitfield_follow_a_bit_vector_model() {
    let s = Server::start(4);
    // The runner takes a `Fn`: the connection is borrowed per case.
    let client = std::cell::RefCell::new(s.client());
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(op_strategy(), 1..40), |ops| {
            let mut c = client.borrow_mut();
            c.cmd(&["DEL", "p"]);
            let mut model = Model::default();
            for op in &ops {
                let expected = model.apply(op);
                let got = c.cmd(&op_args(op));
                prop_assert_eq!(&got, &expected, "{:?}", op);
            }
            let got = c.cmd(&["GET", "p"]);
            if model.exists {
                prop_assert_eq!(got, Reply::bulk(&model.bytes));
            } else {
                prop_assert_eq!(got, Reply::nil());
            }
            Ok(())
        })
        .unwrap();
}
