//! HyperLogLog commands against the real `ferrite` binary with four shards: PFADD PFCOUNT PFMERGE
//! PFDEBUG PFSELFTEST, error texts (wrong type, not an HLL, corrupted HLL), RESP3 shapes,
//! multi-key PFCOUNT and PFMERGE across shards, and differential runs against Debian's
//! redis-server 7.0: counts of 10, 1,000 and 100,000 elements equal to Redis's, the HLL strings
//! equal byte for byte (sparse, dense and on the way between), and values moved both ways with
//! DUMP/RESTORE and GET/SET.

#[macro_use]
mod common;

use common::{against_redis, split_line, Client, Reply, Server, SPREAD_KEYS};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

/// Adds `el:<from>`..`el:<to>` to `key`, 100 elements per PFADD, pipelined.
fn add_range(c: &mut Client, key: &str, from: usize, to: usize) {
    let mut sent = 0;
    for start in (from..to).step_by(100) {
        let mut args = vec!["PFADD".to_string(), key.to_string()];
        args.extend((start..to.min(start + 100)).map(|i| format!("el:{i}")));
        c.send(&args);
        sent += 1;
    }
    for _ in 0..sent {
        let r = c.read();
        assert!(matches!(r, Reply::Int(_)), "{r:?}");
    }
}

fn get_bytes(c: &mut Client, key: &str) -> Vec<u8> {
    match c.cmd(&["GET", key]) {
        Reply::Bulk(b) => b,
        other => panic!("GET {key}: {other:?}"),
    }
}

#[test]
fn pfadd_and_pfcount() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "PFADD h a b c", Reply::int(1));
    check!(c, "PFADD h a", Reply::int(0));
    check!(c, "PFADD h", Reply::int(0));
    check!(c, "PFADD h A", Reply::int(1));
    check!(c, "PFCOUNT h", Reply::int(4));
    check!(c, "PFCOUNT h", Reply::int(4));
    check!(c, "TYPE h", Reply::status("string"));
    // PFADD without elements creates an empty HLL.
    check!(c, "PFADD empty", Reply::int(1));
    check!(c, "EXISTS empty", Reply::int(1));
    check!(c, "PFCOUNT empty", Reply::int(0));
    check!(c, "PFCOUNT nokey", Reply::int(0));
    check!(c, "EXISTS nokey", Reply::int(0));
    // The header: magic, sparse, cached count invalidated by PFADD and refreshed by PFCOUNT.
    assert_eq!(&get_bytes(&mut c, "empty")[8..16], &[0; 8]);
    check!(c, "PFADD empty2", Reply::int(1));
    let fresh = get_bytes(&mut c, "empty2");
    assert_eq!(&fresh[..5], b"HYLL\x01");
    assert_eq!(fresh.len(), 18);
    assert_eq!(fresh[15] & 0x80, 0x80);
    check!(c, "PFADD h d", Reply::int(1));
    assert_eq!(get_bytes(&mut c, "h")[15] & 0x80, 0x80);
    check!(c, "PFCOUNT h", Reply::int(5));
    let h = get_bytes(&mut c, "h");
    assert_eq!(&h[8..16], &5u64.to_le_bytes());
    // A key keeps its TTL through PFADD.
    c.setup("EXPIRE h 100");
    check!(c, "PFADD h zz", Reply::int(1));
    assert!(c.line("TTL h").as_int() > 0);
    // Errors.
    c.setup("LPUSH list a");
    c.setup("SET str hello");
    check!(c, "PFADD list a", Reply::err(WRONGTYPE));
    check!(c, "PFCOUNT list", Reply::err(WRONGTYPE));
    check!(c, "PFADD str a", Reply::err(NOT_HLL));
    check!(c, "PFCOUNT str", Reply::err(NOT_HLL));
    check!(c, "GET str", Reply::bulk("hello"));
    c.setup("SET num 12345678901234567");
    check!(c, "PFCOUNT num", Reply::err(NOT_HLL));
    check!(
        c,
        "PFADD",
        Reply::err("ERR wrong number of arguments for 'pfadd' command")
    );
    check!(
        c,
        "PFCOUNT",
        Reply::err("ERR wrong number of arguments for 'pfcount' command")
    );
}

#[test]
fn multi_key_pfcount_and_pfmerge_across_shards() {
    let s = Server::start(4);
    let mut c = s.client();
    let [a, b, cc, d, e, ..] = SPREAD_KEYS;
    add_range(&mut c, a, 0, 300);
    add_range(&mut c, b, 200, 600);
    add_range(&mut c, cc, 0, 50);
    let before: Vec<Vec<u8>> = [a, b, cc].iter().map(|k| get_bytes(&mut c, k)).collect();
    let union = c.cmd(&["PFCOUNT", a, b, cc, "nokey"]).as_int();
    assert!((590..=610).contains(&union), "{union}");
    // Counting several keys changes none of them.
    let after: Vec<Vec<u8>> = [a, b, cc].iter().map(|k| get_bytes(&mut c, k)).collect();
    assert_eq!(before, after);
    check!(c, &format!("PFMERGE {d} {a} {b} {cc}"), Reply::ok());
    check!(c, &format!("PFCOUNT {d}"), Reply::int(union));
    // The destination counts as a source too.
    add_range(&mut c, e, 1000, 1100);
    check!(c, &format!("PFMERGE {e} {a}"), Reply::ok());
    let merged = c.cmd(&["PFCOUNT", e]).as_int();
    assert_eq!(merged, c.cmd(&["PFCOUNT", a, e]).as_int());
    assert!((390..=410).contains(&merged), "{merged}");
    // A missing destination with no sources becomes an empty HLL.
    check!(c, "PFMERGE {x}new", Reply::ok());
    check!(c, "PFCOUNT {x}new", Reply::int(0));
    // A bad source anywhere: an error and nothing written.
    c.setup(&format!("SET {} nothll", SPREAD_KEYS[5]));
    let d_before = get_bytes(&mut c, d);
    check!(
        c,
        &format!("PFMERGE {d} {a} {}", SPREAD_KEYS[5]),
        Reply::err(NOT_HLL)
    );
    assert_eq!(get_bytes(&mut c, d), d_before);
    check!(
        c,
        &format!("PFCOUNT {a} {}", SPREAD_KEYS[5]),
        Reply::err(NOT_HLL)
    );
    c.setup(&format!("RPUSH {} x", SPREAD_KEYS[6]));
    check!(
        c,
        &format!("PFCOUNT {a} {}", SPREAD_KEYS[6]),
        Reply::err(WRONGTYPE)
    );
    check!(
        c,
        &format!("PFMERGE {} {a}", SPREAD_KEYS[6]),
        Reply::err(WRONGTYPE)
    );
    check!(
        c,
        "PFMERGE",
        Reply::err("ERR wrong number of arguments for 'pfmerge' command")
    );
}

#[test]
fn corrupted_and_foreign_strings() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "PFADD h a b c", Reply::int(1));
    let good = get_bytes(&mut c, "h");
    // One register too many: the cache is stale, so PFCOUNT reads the opcodes and fails.
    let mut long = good.clone();
    long.push(0x00);
    c.cmd(&[&b"SET"[..], b"long", &long]);
    check!(c, "PFCOUNT long", Reply::err(CORRUPT));
    check!(c, "PFCOUNT long h", Reply::err(CORRUPT));
    check!(c, "PFMERGE dst long", Reply::err(CORRUPT));
    check!(c, "EXISTS dst", Reply::int(0));
    check!(c, "PFDEBUG TODENSE long", Reply::err(CORRUPT));
    check!(c, "PFDEBUG GETREG long", Reply::err(CORRUPT));
    // With a valid cached count Redis answers from the cache without reading the registers.
    let mut cached = long.clone();
    cached[8..16].copy_from_slice(&42u64.to_le_bytes());
    c.cmd(&[&b"SET"[..], b"cached", &cached]);
    check!(c, "PFCOUNT cached", Reply::int(42));
    // Not an HLL at all: bad magic, unknown encoding, dense of the wrong length, too short.
    let mut magic = good.clone();
    magic[0] = b'X';
    let mut enc = good.clone();
    enc[4] = 2;
    let mut dense = good.clone();
    dense[4] = 0;
    for (name, v) in [
        ("magic", &magic[..]),
        ("enc", &enc[..]),
        ("dense", &dense[..]),
        ("short", &good[..15]),
    ] {
        c.cmd(&[b"SET", name.as_bytes(), v]);
        check!(c, &format!("PFCOUNT {name}"), Reply::err(NOT_HLL));
        check!(c, &format!("PFADD {name} x"), Reply::err(NOT_HLL));
        check!(c, &format!("PFMERGE h {name}"), Reply::err(NOT_HLL));
        check!(c, &format!("PFDEBUG ENCODING {name}"), Reply::err(NOT_HLL));
    }
}

#[test]
fn pfdebug_and_pfselftest() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "PFADD h a b c", Reply::int(1));
    check!(c, "PFDEBUG ENCODING h", Reply::status("sparse"));
    let decoded = c.line("PFDEBUG DECODE h").text();
    assert!(decoded.contains("v:"), "{decoded}");
    let regs = c.line("PFDEBUG GETREG h");
    assert_eq!(regs.items().len(), 16384);
    let set: i64 = regs.items().iter().map(|r| (r.as_int() > 0) as i64).sum();
    assert_eq!(set, 3);
    // GETREG turned it dense.
    check!(c, "PFDEBUG ENCODING h", Reply::status("dense"));
    check!(c, "STRLEN h", Reply::int(12304));
    check!(c, "PFCOUNT h", Reply::int(3));
    check!(c, "PFDEBUG TODENSE h", Reply::int(0));
    check!(
        c,
        "PFDEBUG decode h",
        Reply::err("ERR HLL encoding is not sparse")
    );
    check!(c, "PFADD e", Reply::int(1));
    check!(c, "PFDEBUG DECODE e", Reply::bulk("Z:16384"));
    check!(c, "PFDEBUG todense e", Reply::int(1));
    check!(c, "PFDEBUG ENCODING e", Reply::status("dense"));
    check!(
        c,
        "PFDEBUG ENCODING nokey",
        Reply::err("ERR The specified key does not exist")
    );
    check!(
        c,
        "PFDEBUG FOO h",
        Reply::err("ERR Unknown PFDEBUG subcommand 'FOO'")
    );
    check!(
        c,
        "PFDEBUG GETREG h x",
        Reply::err("ERR wrong number of arguments for 'pfdebug' command")
    );
    check!(c, "PFSELFTEST", Reply::ok());
    // RESP3 shapes.
    assert!(matches!(c.cmd(&["HELLO", "3"]), Reply::Map(_)));
    check!(c, "PFDEBUG ENCODING h", Reply::status("dense"));
    assert_eq!(c.line("PFDEBUG GETREG h").items().len(), 16384);
    check!(c, "PFCOUNT h e", Reply::int(3));
}

#[test]
fn command_info_lists_hyperloglog_category() {
    let s = Server::start(4);
    let mut c = s.client();
    for (cmd, arity, cats) in [
        ("pfadd", -2, "@write @hyperloglog @fast"),
        ("pfcount", -2, "@read @hyperloglog @slow"),
        ("pfmerge", -2, "@write @hyperloglog @slow"),
    ] {
        let info = c.cmd(&["COMMAND", "INFO", cmd]);
        let entry = &info.items()[0];
        assert_eq!(entry.items()[1], Reply::int(arity), "{cmd}");
        assert_eq!(entry.items()[6].strings().join(" "), cats, "{cmd}");
    }
}

// ---- differential --------------------------------------------------------------------------

/// Sends the same commands to both servers and returns the replies' raw bytes.
fn both(f: &mut Client, r: &mut Client, args: &[String]) -> (Vec<u8>, Vec<u8>) {
    (f.cmd_raw(args), r.cmd_raw(args))
}

const DIFF_LINES: &[&str] = &[
    "PFADD h a b c d e f g",
    "PFADD h a",
    "PFADD h",
    "PFCOUNT h",
    "GET h",
    "PFCOUNT h",
    "GET h",
    "PFADD h2 x y z a b",
    "PFCOUNT h h2",
    "PFCOUNT h h2 missing",
    "PFMERGE m h h2",
    "GET m",
    "PFCOUNT m",
    "PFMERGE m",
    "PFMERGE fresh",
    "GET fresh",
    "PFADD fresh2",
    "GET fresh2",
    "PFDEBUG ENCODING m",
    "PFDEBUG DECODE m",
    "PFDEBUG TODENSE m",
    "PFDEBUG TODENSE m",
    "PFDEBUG DECODE m",
    "PFCOUNT m",
    "GET m",
    "PFADD m more",
    "PFCOUNT m h",
    "PFMERGE h3 h m",
    "GET h3",
    "PFDEBUG ENCODING h3",
    "PFDEBUG nope h",
    "PFDEBUG ENCODING missing",
    "SET s notanhll",
    "PFADD s a",
    "PFCOUNT s",
    "PFCOUNT h s",
    "PFMERGE s h",
    "PFMERGE h s",
    "PFDEBUG ENCODING s",
    "RPUSH l a",
    "PFADD l a",
    "PFCOUNT l",
    "PFCOUNT h l",
    "PFMERGE h l",
    "PFMERGE l h",
    "PFSELFTEST",
    "PFSELFTEST x",
];

#[test]
fn hyperloglog_lines_match_redis() {
    for resp3 in [false, true] {
        let ferrite = Server::start(4);
        let redis = Server::start_redis();
        let (mut f, mut r) = (ferrite.client(), redis.client());
        if resp3 {
            for c in [&mut f, &mut r] {
                assert!(!c.cmd(&["HELLO", "3"]).is_error());
            }
        }
        let mut diffs = Vec::new();
        for (n, line) in DIFF_LINES.iter().enumerate() {
            let (a, b) = both(&mut f, &mut r, &split_line(line));
            if a != b {
                diffs.push(format!(
                    "#{n} {line}\n    ferrite: {:?}\n    redis:   {:?}",
                    String::from_utf8_lossy(&a),
                    String::from_utf8_lossy(&b)
                ));
            }
        }
        // GETREG's 16384 registers, compared as a whole.
        for key in ["h", "m"] {
            let args = split_line(&format!("PFDEBUG GETREG {key}"));
            let (a, b) = both(&mut f, &mut r, &args);
            if a != b {
                diffs.push(format!("PFDEBUG GETREG {key} differs"));
            }
        }
        // Damaged sparse HLLs, set the same way in both: what each command makes of them.
        let good = get_bytes(&mut r, "h2");
        let mut variants: Vec<Vec<u8>> = Vec::new();
        let mut extra = good.clone();
        extra.push(0x00);
        variants.push(extra);
        variants.push(good[..good.len() - 1].to_vec());
        let mut header_only = good[..16].to_vec();
        header_only.push(0x7f);
        variants.push(header_only);
        let mut overflow = good[..16].to_vec();
        overflow.extend_from_slice(&[0x7f, 0xfe, 0x83, 0x83]);
        variants.push(overflow);
        for (v, bytes) in variants.into_iter().enumerate() {
            let key = format!("bad{v}");
            for c in [&mut f, &mut r] {
                c.cmd(&[b"SET".to_vec(), key.as_bytes().to_vec(), bytes.clone()]);
            }
            for line in [
                format!("PFCOUNT {key}"),
                format!("PFCOUNT {key} h"),
                format!("PFMERGE d{v} {key}"),
                format!("PFADD {key} a b c d e f g h i j k l m n o p"),
                format!("GET {key}"),
                format!("PFDEBUG DECODE {key}"),
                format!("PFDEBUG TODENSE {key}"),
                format!("PFCOUNT {key}"),
                format!("GET {key}"),
            ] {
                let (a, b) = both(&mut f, &mut r, &split_line(&line));
                if a != b {
                    diffs.push(format!(
                        "{line}\n    ferrite: {:?}\n    redis:   {:?}",
                        String::from_utf8_lossy(&a),
                        String::from_utf8_lossy(&b)
                    ));
                }
            }
        }
        assert!(
            diffs.is_empty(),
            "resp3={resp3}: {} lines differ from redis-server:\n{}",
            diffs.len(),
            diffs.join("\n")
        );
    }
}

#[test]
fn counts_and_bytes_match_redis() {
    let ferrite = Server::start(4);
    let redis = Server::start_redis();
    let (mut f, mut r) = (ferrite.client(), redis.client());
    for n in [10usize, 1_000, 100_000] {
        let key = format!("hll{n}");
        for c in [&mut f, &mut r] {
            add_range(c, &key, 0, n);
        }
        let (a, b) = (get_bytes(&mut f, &key), get_bytes(&mut r, &key));
        assert!(a == b, "{n} elements: the HLL strings differ");
        let count = r.cmd(&["PFCOUNT", &key]);
        assert_eq!(f.cmd(&["PFCOUNT", &key]), count, "{n} elements");
        if n == 10 {
            assert_eq!(count, Reply::int(10));
        }
        // With the cached count written back, still the same bytes.
        assert!(get_bytes(&mut f, &key) == get_bytes(&mut r, &key));
    }
    let keys = ["PFCOUNT", "hll10", "hll1000", "hll100000"];
    assert_eq!(f.cmd(&keys), r.cmd(&keys));
    for c in [&mut f, &mut r] {
        assert_eq!(
            c.cmd(&["PFMERGE", "merged", "hll10", "hll1000"]),
            Reply::ok()
        );
    }
    assert!(get_bytes(&mut f, "merged") == get_bytes(&mut r, "merged"));
    assert_eq!(f.cmd(&["PFCOUNT", "merged"]), r.cmd(&["PFCOUNT", "merged"]));
    for c in [&mut f, &mut r] {
        assert_eq!(c.cmd(&["PFMERGE", "merged", "hll100000"]), Reply::ok());
    }
    assert!(get_bytes(&mut f, "merged") == get_bytes(&mut r, "merged"));
}

/// One element at a time up to past the sparse limit: the same bytes at every step checked,
/// through the sparse-to-dense promotion.
#[test]
fn sparse_to_dense_promotion_matches_redis() {
    let ferrite = Server::start(4);
    let redis = Server::start_redis();
    let (mut f, mut r) = (ferrite.client(), redis.client());
    let mut promoted_at = None;
    for i in 0..2500usize {
        let el = format!("item-{i}");
        let (a, b) = (f.cmd(&["PFADD", "p", &el]), r.cmd(&["PFADD", "p", &el]));
        assert_eq!(a, b, "PFADD #{i}");
        if i % 25 == 0 || promoted_at.is_none() && i % 5 == 0 {
            assert!(
                get_bytes(&mut f, "p") == get_bytes(&mut r, "p"),
                "bytes differ after {i} elements"
            );
            let enc = r.cmd(&["PFDEBUG", "ENCODING", "p"]);
            assert_eq!(f.cmd(&["PFDEBUG", "ENCODING", "p"]), enc);
            if promoted_at.is_none() && enc == Reply::status("dense") {
                promoted_at = Some(i);
            }
        }
    }
    assert!(promoted_at.is_some(), "never turned dense");
    assert!(get_bytes(&mut f, "p") == get_bytes(&mut r, "p"));
}

#[test]
fn values_move_between_redis_and_ferrite() {
    let ferrite = Server::start(4);
    let redis = Server::start_redis();
    let (mut f, mut r) = (ferrite.client(), redis.client());
    add_range(&mut r, "sparse", 0, 200);
    add_range(&mut r, "dense", 0, 20_000);
    for key in ["sparse", "dense"] {
        // DUMP from Redis, RESTORE in Ferrite.
        let dump = match r.cmd(&["DUMP", key]) {
            Reply::Bulk(b) => b,
            other => panic!("DUMP: {other:?}"),
        };
        let restored = f.cmd(&[
            b"RESTORE".to_vec(),
            key.as_bytes().to_vec(),
            b"0".to_vec(),
            dump,
        ]);
        assert_eq!(restored, Reply::ok(), "{key}");
        assert_eq!(f.cmd(&["PFCOUNT", key]), r.cmd(&["PFCOUNT", key]), "{key}");
        assert!(get_bytes(&mut f, key) == get_bytes(&mut r, key), "{key}");
        // And back: DUMP from Ferrite, RESTORE in Redis.
        f.cmd(&["PFADD", key, "one-more"]);
        r.cmd(&["PFADD", key, "one-more"]);
        let dump = match f.cmd(&["DUMP", key]) {
            Reply::Bulk(b) => b,
            other => panic!("DUMP: {other:?}"),
        };
        let back = format!("{key}-back");
        let restored = r.cmd(&[
            b"RESTORE".to_vec(),
            back.as_bytes().to_vec(),
            b"0".to_vec(),
            dump,
        ]);
        assert_eq!(restored, Reply::ok(), "{key}");
        assert_eq!(
            r.cmd(&["PFCOUNT", &back]),
            f.cmd(&["PFCOUNT", key]),
            "{key}"
        );
        // GET from one, SET into the other.
        let bytes = get_bytes(&mut f, key);
        let copy = format!("{key}-copy");
        r.cmd(&[b"SET".to_vec(), copy.as_bytes().to_vec(), bytes]);
        assert_eq!(
            r.cmd(&["PFCOUNT", &copy]),
            f.cmd(&["PFCOUNT", key]),
            "{key}"
        );
        assert_eq!(
            r.cmd(&["PFCOUNT", &copy, "sparse"]),
            f.cmd(&["PFCOUNT", key, "sparse"])
        );
    }
    if !against_redis() {
        assert_eq!(
            f.cmd(&["PFDEBUG", "ENCODING", "dense"]),
            Reply::status("dense")
        );
        assert_eq!(
            f.cmd(&["PFDEBUG", "ENCODING", "sparse"]),
            Reply::status("sparse")
        );
    }
}
