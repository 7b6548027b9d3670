//! Connection and server commands against the real `ferrite` binary: PING/ECHO/QUIT, databases,
//! HELLO and RESP3, authentication, CLIENT, INFO, CONFIG, COMMAND, TIME and SHUTDOWN.

#[macro_use]
mod common;

use common::{against_redis, Client, Reply, Server};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const NOAUTH: &str = "NOAUTH Authentication required.";
const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

#[test]
fn ping_echo_quit() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(c, "PING", Reply::status("PONG"));
    check!(c, "PING hello", Reply::bulk("hello"));
    check!(c, "ping \"hello world\"", Reply::bulk("hello world"));
    check!(
        c,
        "PING a b",
        Reply::err("ERR wrong number of arguments for 'ping' command")
    );
    check!(c, "ECHO hi", Reply::bulk("hi"));
    check!(c, "ECHO \"\"", Reply::bulk(""));
    check!(
        c,
        "ECHO",
        Reply::err("ERR wrong number of arguments for 'echo' command")
    );
    check!(
        c,
        "ECHO a b",
        Reply::err("ERR wrong number of arguments for 'echo' command")
    );
    check!(
        c,
        "NOSUCHCMD a \"b c\"",
        Reply::err("ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b c' ")
    );
    assert_eq!(c.cmd_raw(&["QUIT"]), b"+OK\r\n");
    assert!(
        c.closed_within(Duration::from_secs(10)),
        "QUIT left the connection open"
    );
    // The server goes on serving others.
    let mut other = s.client();
    check!(other, "PING", Reply::status("PONG"));
}

#[test]
fn select_swapdb_dbsize_flush() {
    let s = Server::start(4);
    let mut c = s.client();
    for db in 0..16 {
        check!(c, &format!("SELECT {db}"), Reply::ok());
        check!(c, &format!("SET a db{db}"), Reply::ok());
    }
    for db in 0..16 {
        check!(c, &format!("SELECT {db}"), Reply::ok());
        check!(c, "GET a", Reply::bulk(format!("db{db}")));
    }
    for bad in ["16", "-1", "100000"] {
        check!(
            c,
            &format!("SELECT {bad}"),
            Reply::err("ERR DB index is out of range")
        );
    }
    check!(
        c,
        "SELECT abc",
        Reply::err("ERR value is not an integer or out of range")
    );
    // DBSIZE counts the keys of every shard in the selected database.
    check!(c, "SELECT 0", Reply::ok());
    check!(c, "MSET b 1 c 2 d 3 e 4 f 5 g 6 h 7", Reply::ok());
    check!(c, "DBSIZE", Reply::int(8));
    check!(c, "SELECT 1", Reply::ok());
    check!(c, "DBSIZE", Reply::int(1));
    // SWAPDB swaps whole databases on every shard, for every client.
    let mut other = s.client();
    check!(c, "SWAPDB 0 1", Reply::ok());
    check!(c, "DBSIZE", Reply::int(8));
    check!(c, "GET a", Reply::bulk("db0"));
    check!(other, "DBSIZE", Reply::int(1));
    check!(other, "GET a", Reply::bulk("db1"));
    check!(
        other,
        "MGET b h",
        Reply::arr(vec![Reply::nil(), Reply::nil()])
    );
    check!(c, "SWAPDB 1 0", Reply::ok());
    check!(other, "DBSIZE", Reply::int(8));
    check!(c, "SWAPDB 0 16", Reply::err("ERR DB index is out of range"));
    check!(c, "SWAPDB a 1", Reply::err("ERR invalid first DB index"));
    check!(c, "SWAPDB 1 a", Reply::err("ERR invalid second DB index"));
    // FLUSHDB empties only the selected database.
    check!(c, "SELECT 0", Reply::ok());
    check!(c, "FLUSHDB", Reply::ok());
    check!(c, "DBSIZE", Reply::int(0));
    check!(c, "SELECT 2", Reply::ok());
    check!(c, "GET a", Reply::bulk("db2"));
    check!(c, "FLUSHDB SYNC", Reply::ok());
    check!(c, "DBSIZE", Reply::int(0));
    check!(c, "FLUSHDB FOO", Reply::err("ERR syntax error"));
    // FLUSHALL ASYNC empties every database; a big one too.
    check!(c, "SELECT 3", Reply::ok());
    let mut args = vec!["MSET".to_string()];
    for i in 0..20_000 {
        args.push(format!("k{i}"));
        args.push("v".into());
    }
    assert_eq!(c.cmd(&args), Reply::ok());
    check!(c, "DBSIZE", Reply::int(20_001));
    check!(c, "FLUSHALL ASYNC", Reply::ok());
    for db in 0..16 {
        check!(c, &format!("SELECT {db}"), Reply::ok());
        check!(c, "DBSIZE", Reply::int(0));
    }
    check!(c, "FLUSHALL FOO", Reply::err("ERR syntax error"));
    check!(c, "SET a 1", Reply::ok());
    check!(c, "FLUSHALL", Reply::ok());
    check!(c, "DBSIZE", Reply::int(0));
    check!(
        c,
        "DBSIZE x",
        Reply::err("ERR wrong number of arguments for 'dbsize' command")
    );
}

#[test]
fn time() {
    let s = Server::start(4);
    let mut c = s.client();
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let t = c.line("TIME").strings();
    assert_eq!(t.len(), 2);
    let secs: u64 = t[0].parse().unwrap();
    let micros: u64 = t[1].parse().unwrap();
    assert!(micros < 1_000_000);
    assert!(
        secs.abs_diff(before.as_secs()) < 300,
        "TIME {secs} vs {}",
        before.as_secs()
    );
    check!(
        c,
        "TIME x",
        Reply::err("ERR wrong number of arguments for 'time' command")
    );
}

#[test]
fn hello_and_resp3() {
    let s = Server::start(4);
    let mut c = s.client();
    let raw = c.cmd_raw(&["HELLO", "3"]);
    assert!(
        raw.starts_with(b"%7\r\n"),
        "{:?}",
        String::from_utf8_lossy(&raw)
    );
    let (reply, _) = common::parse_reply(&raw, 0);
    let fields = reply.pairs();
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).unwrap().1.clone();
    assert_eq!(get("server"), Reply::bulk("redis"));
    assert_eq!(get("version"), Reply::bulk("7.0.15"));
    assert_eq!(get("proto"), Reply::int(3));
    assert_eq!(get("id"), c.line("CLIENT ID"));
    assert_eq!(get("mode"), Reply::bulk("standalone"));
    assert_eq!(get("role"), Reply::bulk("master"));
    assert_eq!(get("modules"), Reply::arr(vec![]));
    // RESP3 types on the wire.
    assert_eq!(c.cmd_raw(&["GET", "nosuch"]), b"_\r\n");
    c.line("SET a 1");
    assert_eq!(
        c.cmd_raw(&["MGET", "a", "nosuch"]),
        b"*2\r\n$1\r\n1\r\n_\r\n"
    );
    assert!(c
        .cmd_raw(&["CONFIG", "GET", "maxclients"])
        .starts_with(b"%1\r\n"));
    // Back to RESP2.
    let raw = c.cmd_raw(&["HELLO", "2"]);
    assert!(
        raw.starts_with(b"*14\r\n"),
        "{:?}",
        String::from_utf8_lossy(&raw)
    );
    assert_eq!(c.cmd_raw(&["GET", "nosuch"]), b"$-1\r\n");
    // HELLO without a version answers in the current protocol.
    assert!(c.cmd_raw(&["HELLO"]).starts_with(b"*14\r\n"));
    for v in ["4", "1", "0", "-1"] {
        check!(
            c,
            &format!("HELLO {v}"),
            Reply::err("NOPROTO unsupported protocol version")
        );
    }
    check!(
        c,
        "HELLO abc",
        Reply::err("ERR Protocol version is not an integer or out of range")
    );
    check!(
        c,
        "HELLO 3 FOO",
        Reply::err("ERR Syntax error in HELLO option 'FOO'")
    );
    check!(
        c,
        "HELLO 3 AUTH default",
        Reply::err("ERR Syntax error in HELLO option 'AUTH'")
    );
    // A failed HELLO leaves the protocol alone.
    assert_eq!(c.cmd_raw(&["GET", "nosuch"]), b"$-1\r\n");
    // SETNAME
    let r = c.line("HELLO 3 SETNAME myname");
    assert!(matches!(r, Reply::Map(_)), "{r:?}");
    check!(c, "CLIENT GETNAME", Reply::bulk("myname"));
    check!(
        c,
        "HELLO 3 SETNAME \"a b\"",
        Reply::err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
}

#[test]
fn auth_without_a_password() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(
        c,
        "AUTH foo",
        Reply::err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
    );
    // The default user takes any password when none is set.
    check!(c, "AUTH default foo", Reply::ok());
    check!(c, "AUTH nosuchuser foo", Reply::err(WRONGPASS));
    check!(
        c,
        "AUTH",
        Reply::err("ERR wrong number of arguments for 'auth' command")
    );
    check!(c, "AUTH a b c", Reply::err("ERR syntax error"));
    assert!(matches!(c.line("HELLO 3 AUTH default x"), Reply::Map(_)));
}

#[test]
fn requirepass() {
    let s = Server::start_with(4, &["--requirepass", "s3cret"]);
    let mut c = s.client_noauth();
    check!(c, "GET a", Reply::err(NOAUTH));
    check!(c, "PING", Reply::err(NOAUTH));
    check!(c, "SET a 1", Reply::err(NOAUTH));
    check!(c, "MSET a 1 b 2", Reply::err(NOAUTH));
    check!(c, "KEYS *", Reply::err(NOAUTH));
    // Redis 7.0 says "the HELLO AUTH <user> <pass> option", 7.2 "the HELLO <proto> AUTH ...".
    let hello = c.line("HELLO 3").text();
    assert!(
        hello.starts_with("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO ")
            && hello.ends_with("AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"),
        "{hello}"
    );
    check!(c, "AUTH wrong", Reply::err(WRONGPASS));
    check!(c, "AUTH default wrong", Reply::err(WRONGPASS));
    check!(c, "AUTH nosuchuser s3cret", Reply::err(WRONGPASS));
    check!(c, "HELLO 3 AUTH default wrong", Reply::err(WRONGPASS));
    check!(c, "GET a", Reply::err(NOAUTH));
    check!(c, "AUTH s3cret", Reply::ok());
    check!(c, "SET a 1", Reply::ok());
    check!(c, "GET a", Reply::bulk("1"));

    let mut c2 = s.client_noauth();
    check!(c2, "AUTH default s3cret", Reply::ok());
    check!(c2, "GET a", Reply::bulk("1"));

    let mut c3 = s.client_noauth();
    let raw = c3.cmd_raw(&["HELLO", "3", "AUTH", "default", "s3cret"]);
    assert!(
        raw.starts_with(b"%7\r\n"),
        "{:?}",
        String::from_utf8_lossy(&raw)
    );
    assert_eq!(c3.cmd_raw(&["GET", "nosuch"]), b"_\r\n");
    assert_eq!(c3.cmd_raw(&["GET", "a"]), b"$1\r\n1\r\n");

    // QUIT works before AUTH.
    let mut c4 = s.client_noauth();
    check!(c4, "QUIT", Reply::ok());
    assert!(c4.closed_within(Duration::from_secs(10)));

    // Before AUTH, big requests are refused as in Redis.
    let mut c5 = s.client_noauth();
    c5.send_raw(b"*20\r\n");
    assert_eq!(
        c5.read(),
        Reply::err("ERR Protocol error: unauthenticated multibulk length")
    );
    assert!(c5.closed_within(Duration::from_secs(10)));
    let mut c6 = s.client_noauth();
    c6.send_raw(b"*2\r\n$4\r\nAUTH\r\n$20000\r\n");
    assert_eq!(
        c6.read(),
        Reply::err("ERR Protocol error: unauthenticated bulk length")
    );
    assert!(c6.closed_within(Duration::from_secs(10)));

    // The redis crate authenticates from the URL.
    let mut con = s.conn();
    let v: String = redis::cmd("GET").arg("a").query(&mut con).unwrap();
    assert_eq!(v, "1");

    // redis-cli with -a.
    let out = s.redis_cli(&["GET", "a"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1");
}

#[test]
fn requirepass_set_at_run_time() {
    let s = Server::start(4);
    let mut admin = s.client();
    check!(admin, "CONFIG SET requirepass newpass", Reply::ok());
    check!(
        admin,
        "CONFIG GET requirepass",
        Reply::bulks(&["requirepass", "newpass"])
    );
    // The connection that set it stays authenticated; new ones must AUTH.
    check!(admin, "SET a 1", Reply::ok());
    let mut c = s.client_noauth();
    check!(c, "GET a", Reply::err(NOAUTH));
    check!(c, "AUTH newpass", Reply::ok());
    check!(c, "GET a", Reply::bulk("1"));
    check!(admin, "CONFIG SET requirepass \"\"", Reply::ok());
    let mut c2 = s.client_noauth();
    check!(c2, "GET a", Reply::bulk("1"));
}

/// The fields of a CLIENT LIST / CLIENT INFO line.
fn client_fields(line: &str) -> Vec<(String, String)> {
    line.split_whitespace()
        .filter_map(|f| f.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn field(line: &str, name: &str) -> String {
    client_fields(line)
        .into_iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no {name}= in {line}"))
        .1
}

#[test]
fn client_id_name_list_info() {
    let s = Server::start(4);
    let mut a = s.client();
    let mut b = s.client();
    let id_a = a.line("CLIENT ID").as_int();
    let id_b = b.line("CLIENT ID").as_int();
    assert!(id_a > 0 && id_b > 0 && id_a != id_b, "ids {id_a} {id_b}");
    check!(a, "CLIENT GETNAME", Reply::nil());
    check!(a, "CLIENT SETNAME alpha", Reply::ok());
    check!(a, "CLIENT GETNAME", Reply::bulk("alpha"));
    check!(
        a,
        "CLIENT SETNAME \"a b\"",
        Reply::err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
    check!(a, "CLIENT GETNAME", Reply::bulk("alpha"));
    check!(b, "SELECT 7", Reply::ok());

    // CLIENT INFO: this connection only.
    let info = a.line("CLIENT INFO").text();
    assert_eq!(info.lines().count(), 1, "{info}");
    assert_eq!(field(&info, "id"), id_a.to_string());
    assert_eq!(field(&info, "name"), "alpha");
    assert_eq!(field(&info, "addr"), a.local_addr().to_string());
    assert_eq!(field(&info, "laddr"), s.addr().to_string());
    assert_eq!(field(&info, "db"), "0");
    assert_eq!(field(&info, "cmd"), "client|info");
    assert_eq!(field(&info, "resp"), "2");

    // CLIENT LIST: every connection, whichever shard serves it.
    let mut others: Vec<Client> = (0..6).map(|_| s.client()).collect();
    for o in &mut others {
        check!(o, "PING", Reply::status("PONG"));
    }
    let list = a.line("CLIENT LIST").text();
    let mut ids: Vec<i64> = vec![id_a, id_b];
    for o in &mut others {
        ids.push(o.line("CLIENT ID").as_int());
    }
    for id in &ids {
        assert_eq!(
            list.lines()
                .filter(|l| field(l, "id") == id.to_string())
                .count(),
            1,
            "client {id} in {list}"
        );
    }
    let line_b = list
        .lines()
        .find(|l| field(l, "id") == id_b.to_string())
        .expect("b listed");
    assert_eq!(field(line_b, "db"), "7");
    assert_eq!(field(line_b, "addr"), b.local_addr().to_string());
    let only = a.line(&format!("CLIENT LIST ID {id_a} {id_b}")).text();
    assert_eq!(only.lines().count(), 2, "{only}");
    check!(
        a,
        "CLIENT LIST TYPE foo",
        Reply::err("ERR Unknown client type 'foo'")
    );
    check!(a, "CLIENT LIST ID abc", Reply::err("ERR Invalid client ID"));
    check!(
        a,
        "CLIENT FOO",
        Reply::err("ERR unknown subcommand 'FOO'. Try CLIENT HELP.")
    );
    check!(
        a,
        "CLIENT",
        Reply::err("ERR wrong number of arguments for 'client' command")
    );

    // NO-EVICT shows in the flags; SETINFO in lib-name / lib-ver.
    check!(a, "CLIENT NO-EVICT on", Reply::ok());
    assert!(field(&a.line("CLIENT INFO").text(), "flags").contains('e'));
    check!(a, "CLIENT NO-EVICT off", Reply::ok());
    assert!(!field(&a.line("CLIENT INFO").text(), "flags").contains('e'));
    check!(a, "CLIENT NO-EVICT maybe", Reply::err("ERR syntax error"));
    if against_redis() {
        return; // CLIENT SETINFO came with Redis 7.2
    }
    check!(a, "CLIENT SETINFO lib-name mylib", Reply::ok());
    check!(a, "CLIENT SETINFO lib-ver 1.2.3", Reply::ok());
    let info = a.line("CLIENT INFO").text();
    assert_eq!(field(&info, "lib-name"), "mylib");
    assert_eq!(field(&info, "lib-ver"), "1.2.3");
    check!(
        a,
        "CLIENT SETINFO foo bar",
        Reply::err("ERR Unrecognized option 'foo'")
    );
}

/// Redis documents CLIENT ID as monotonic: "if the ID of a connection is greater than the ID of
/// another connection, it is guaranteed that the second connection was established with the
/// server at a later time".
#[test]
fn client_ids_follow_connection_order() {
    let s = Server::start(4);
    let mut clients: Vec<Client> = Vec::new();
    for _ in 0..40 {
        // connect() returns once the connection is established, before the next one starts.
        clients.push(s.client());
    }
    let ids: Vec<i64> = clients
        .iter_mut()
        .map(|c| c.line("CLIENT ID").as_int())
        .collect();
    for w in ids.windows(2) {
        assert!(w[0] < w[1], "CLIENT IDs out of connection order: {ids:?}");
    }
}

#[test]
fn client_kill() {
    let s = Server::start(4);
    let mut admin = s.client();
    let admin_id = admin.line("CLIENT ID").as_int();

    // By ID (new form): an integer count.
    let mut v1 = s.client();
    let id1 = v1.line("CLIENT ID").as_int();
    check!(admin, &format!("CLIENT KILL ID {id1}"), Reply::int(1));
    assert!(
        v1.closed_within(Duration::from_secs(10)),
        "killed client still open"
    );
    check!(admin, &format!("CLIENT KILL ID {id1}"), Reply::int(0));

    // By address, old form: OK or an error.
    let mut v2 = s.client();
    check!(v2, "PING", Reply::status("PONG"));
    let addr2 = v2.local_addr().to_string();
    check!(admin, &format!("CLIENT KILL {addr2}"), Reply::ok());
    assert!(v2.closed_within(Duration::from_secs(10)));
    check!(
        admin,
        &format!("CLIENT KILL {addr2}"),
        Reply::err("ERR No such client")
    );

    // By address, new form.
    let mut v3 = s.client();
    check!(v3, "PING", Reply::status("PONG"));
    let addr3 = v3.local_addr().to_string();
    check!(admin, &format!("CLIENT KILL ADDR {addr3}"), Reply::int(1));
    assert!(v3.closed_within(Duration::from_secs(10)));

    // The caller is skipped unless SKIPME no.
    check!(admin, &format!("CLIENT KILL ID {admin_id}"), Reply::int(0));
    check!(admin, "PING", Reply::status("PONG"));
    check!(
        admin,
        "CLIENT KILL ID abc",
        Reply::err("ERR client-id should be greater than 0")
    );
    check!(admin, "CLIENT KILL FOO bar", Reply::err("ERR syntax error"));
    check!(
        admin,
        "CLIENT KILL TYPE foo",
        Reply::err("ERR Unknown client type 'foo'")
    );
    // Many clients over all shards, killed together by LADDR; the caller survives.
    let mut victims: Vec<Client> = (0..8).map(|_| s.client()).collect();
    for v in &mut victims {
        check!(v, "PING", Reply::status("PONG"));
    }
    let listed = admin.line("CLIENT LIST").text().lines().count() as i64;
    assert!(listed >= 9, "{listed} clients listed");
    check!(
        admin,
        &format!("CLIENT KILL LADDR {}", s.addr()),
        Reply::int(listed - 1)
    );
    for v in &mut victims {
        assert!(v.closed_within(Duration::from_secs(10)));
    }
    check!(admin, "PING", Reply::status("PONG"));
    check!(
        admin,
        &format!("CLIENT KILL ID {admin_id} SKIPME no"),
        Reply::int(1)
    );
    assert!(admin.closed_within(Duration::from_secs(10)));
    // And the server keeps accepting.
    let mut fresh = s.client();
    check!(fresh, "PING", Reply::status("PONG"));
}

fn info_map(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

#[test]
fn info_sections() {
    let s = Server::start(4);
    let mut c = s.client();
    let server = c.line("INFO server").text();
    assert!(server.starts_with("# Server\r\n"), "{server}");
    let m = info_map(&server);
    let get = |k: &str| m.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("redis_version").as_deref(), Some("7.0.15"));
    assert_eq!(get("tcp_port"), Some(s.port.to_string()));
    assert_eq!(get("process_id"), Some(s.pid.to_string()));
    assert!(!server.contains("# Keyspace"));

    check!(c, "MSET a 1 b 2 c 3 d 4", Reply::ok());
    check!(c, "SET e 5 EX 1000", Reply::ok());
    check!(c, "SELECT 5", Reply::ok());
    check!(c, "SET x 1", Reply::ok());
    let ks = c.line("INFO keyspace").text();
    assert!(ks.starts_with("# Keyspace\r\n"), "{ks}");
    let lines: Vec<&str> = ks.lines().skip(1).filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{ks}");
    assert!(
        lines[0].starts_with("db0:keys=5,expires=1,avg_ttl="),
        "{ks}"
    );
    assert_eq!(lines[1], "db5:keys=1,expires=0,avg_ttl=0");

    // The default set has keyspace but not commandstats; "all" has both.
    let default = c.line("INFO").text();
    for section in ["# Server", "# Clients", "# Memory", "# Stats", "# Keyspace"] {
        assert!(default.contains(section), "INFO lacks {section}");
    }
    assert!(!default.contains("# Commandstats"));
    let all = c.line("INFO all").text();
    assert!(all.contains("# Commandstats") && all.contains("# Keyspace"));
    let two = c.line("INFO server keyspace").text();
    assert!(two.contains("# Server") && two.contains("# Keyspace") && !two.contains("# Stats"));

    // commandstats counts calls, wherever they ran.
    check!(c, "CONFIG RESETSTAT", Reply::ok());
    for k in common::SPREAD_KEYS {
        check!(c, &format!("SET {k} v"), Reply::ok());
    }
    check!(
        c,
        "INCR a",
        Reply::err("ERR value is not an integer or out of range")
    );
    let stats = c.line("INFO commandstats").text();
    assert!(stats.starts_with("# Commandstats\r\n"), "{stats}");
    let set = stats
        .lines()
        .find(|l| l.starts_with("cmdstat_set:"))
        .unwrap_or_else(|| panic!("no cmdstat_set in {stats}"));
    assert!(set.starts_with("cmdstat_set:calls=8,"), "{set}");
    let incr = stats
        .lines()
        .find(|l| l.starts_with("cmdstat_incr:"))
        .unwrap_or_else(|| panic!("no cmdstat_incr in {stats}"));
    assert!(incr.starts_with("cmdstat_incr:calls=1,"), "{incr}");
    assert!(incr.contains("failed_calls=1"), "{incr}");
    // RESETSTAT clears them.
    check!(c, "CONFIG RESETSTAT", Reply::ok());
    let stats = c.line("INFO commandstats").text();
    assert!(!stats.contains("cmdstat_set:"), "{stats}");
    let clients: i64 = s
        .info_field("clients", "connected_clients")
        .unwrap()
        .parse()
        .unwrap();
    assert!(clients >= 2, "connected_clients {clients}");
}

#[test]
fn config_get_set() {
    let s = Server::start(4);
    let mut c = s.client();
    check!(
        c,
        "CONFIG GET maxclients",
        Reply::bulks(&["maxclients", "10000"])
    );
    check!(c, "CONFIG SET maxclients 5000", Reply::ok());
    check!(
        c,
        "CONFIG GET maxclients",
        Reply::bulks(&["maxclients", "5000"])
    );
    check!(c, "CONFIG GET save", Reply::bulks(&["save", ""]));
    check!(
        c,
        "CONFIG GET appendonly",
        Reply::bulks(&["appendonly", "no"])
    );
    check!(
        c,
        "CONFIG GET port",
        Reply::bulks(&["port", &s.port.to_string()])
    );
    check!(
        c,
        "CONFIG GET databases",
        Reply::bulks(&["databases", "16"])
    );
    check!(c, "CONFIG GET nosuch", Reply::arr(vec![]));
    // Glob patterns, case-insensitive, no duplicates.
    let mut pairs = c
        .line("CONFIG GET maxmemory maxmemory-pol* maxmemory")
        .pairs();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        pairs,
        [
            ("maxmemory".to_string(), Reply::bulk("0")),
            ("maxmemory-policy".to_string(), Reply::bulk("noeviction"))
        ]
    );
    // Memory values in their units.
    check!(c, "CONFIG SET maxmemory 10mb", Reply::ok());
    check!(
        c,
        "CONFIG GET maxmemory",
        Reply::bulks(&["maxmemory", "10485760"])
    );
    check!(c, "CONFIG SET maxmemory 1k", Reply::ok());
    check!(
        c,
        "CONFIG GET maxmemory",
        Reply::bulks(&["maxmemory", "1000"])
    );
    // Several at once.
    check!(c, "CONFIG SET timeout 30 maxmemory 0", Reply::ok());
    check!(c, "CONFIG GET timeout", Reply::bulks(&["timeout", "30"]));
    // Errors, with Redis's texts.
    check!(
        c,
        "CONFIG SET nosuch 1",
        Reply::err("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'")
    );
    check!(
        c,
        "CONFIG SET databases 3",
        Reply::err("ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config")
    );
    check!(
        c,
        "CONFIG SET appendonly maybe",
        Reply::err("ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'")
    );
    check!(
        c,
        "CONFIG SET timeout abc",
        Reply::err("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer")
    );
    check!(
        c,
        "CONFIG SET timeout 0 timeout 0",
        Reply::err(
            "ERR CONFIG SET failed (possibly related to argument 'timeout') - duplicate parameter"
        )
    );
    check!(
        c,
        "CONFIG SET timeout",
        Reply::err("ERR wrong number of arguments for 'config|set' command")
    );
    check!(
        c,
        "CONFIG GET",
        Reply::err("ERR wrong number of arguments for 'config|get' command")
    );
    check!(
        c,
        "CONFIG FOO",
        Reply::err("ERR unknown subcommand 'FOO'. Try CONFIG HELP.")
    );
    check!(c, "CONFIG GET timeout", Reply::bulks(&["timeout", "30"]));
}

#[test]
fn maxclients_is_enforced() {
    let s = Server::start(4);
    let mut admin = s.client();
    // Wait until only this connection is counted (the start-up probe may linger a moment).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while s_info(&mut admin, "clients", "connected_clients") != "1" {
        assert!(std::time::Instant::now() < deadline, "stale connections");
        std::thread::sleep(Duration::from_millis(20));
    }
    check!(admin, "CONFIG SET maxclients 3", Reply::ok());
    let mut two = s.client();
    let mut three = s.client();
    check!(two, "PING", Reply::status("PONG"));
    check!(three, "PING", Reply::status("PONG"));
    let refused = s.raw(b"PING\r\n");
    assert_eq!(refused, b"-ERR max number of clients reached\r\n");
    let rejected: u64 = s_info(&mut admin, "stats", "rejected_connections")
        .parse()
        .unwrap();
    assert!(rejected >= 1);
    check!(admin, "CONFIG SET maxclients 100", Reply::ok());
    let mut four = s.client();
    check!(four, "PING", Reply::status("PONG"));
}

fn s_info(c: &mut Client, section: &str, name: &str) -> String {
    let text = c.cmd(&["INFO", section]).text();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .trim()
        .to_string()
}

#[test]
fn command_introspection() {
    let s = Server::start(4);
    let mut c = s.client();
    let count = c.line("COMMAND COUNT").as_int();
    assert!(count >= 50, "COMMAND COUNT {count}");
    let all = c.line("COMMAND");
    assert_eq!(all.items().len() as i64, count);
    let info = c.line("COMMAND INFO get set nosuchcmd");
    let items = info.items();
    assert_eq!(items.len(), 3);
    let get = items[0].items();
    assert_eq!(get[0], Reply::bulk("get"));
    assert_eq!(get[1], Reply::int(2));
    assert_eq!(
        get[2].items().iter().map(Reply::text).collect::<Vec<_>>(),
        ["readonly", "fast"]
    );
    assert_eq!(&get[3..6], &[Reply::int(1), Reply::int(1), Reply::int(1)]);
    let set = items[1].items();
    assert_eq!(set[0], Reply::bulk("set"));
    assert_eq!(set[1], Reply::int(-3));
    assert!(matches!(items[2], Reply::NilBulk | Reply::NilArray));
    let mset = c.line("COMMAND INFO mset");
    let mset = mset.items()[0].items();
    assert_eq!(mset[0], Reply::bulk("mset"));
    assert_eq!(mset[1], Reply::int(-3));
    assert_eq!(&mset[3..6], &[Reply::int(1), Reply::int(-1), Reply::int(2)]);
    // DOCS: a map (flat in RESP2) with the summary.
    let docs = c.line("COMMAND DOCS get").pairs();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].0, "get");
    let fields = docs[0].1.pairs();
    assert!(fields.iter().any(|(k, _)| k == "summary"));
    assert!(fields
        .iter()
        .any(|(k, v)| k == "group" && *v == Reply::bulk("string")));
    // GETKEYS follows each command's key positions.
    check!(c, "COMMAND GETKEYS SET a b", Reply::bulks(&["a"]));
    check!(c, "COMMAND GETKEYS MSET a 1 b 2", Reply::bulks(&["a", "b"]));
    check!(c, "COMMAND GETKEYS RENAME x y", Reply::bulks(&["x", "y"]));
    check!(
        c,
        "COMMAND GETKEYS LCS k1 k2 LEN",
        Reply::bulks(&["k1", "k2"])
    );
    check!(c, "COMMAND GETKEYS OBJECT ENCODING k", Reply::bulks(&["k"]));
    check!(
        c,
        "COMMAND GETKEYS DEL a b c",
        Reply::bulks(&["a", "b", "c"])
    );
    check!(
        c,
        "COMMAND GETKEYS FOO x",
        Reply::err("ERR Invalid command specified")
    );
    check!(
        c,
        "COMMAND GETKEYS GET a b",
        Reply::err("ERR Invalid number of arguments specified for command")
    );
    check!(
        c,
        "COMMAND GETKEYS PING x",
        Reply::err("ERR The command has no key arguments")
    );
    let mut list = c.line("COMMAND LIST FILTERBY PATTERN expire*").strings();
    list.sort();
    assert_eq!(list, ["expire", "expireat", "expiretime"]);
}

#[test]
fn shutdown_exits_cleanly() {
    let mut s = Server::start(4);
    let mut bystander = s.client();
    let mut c = s.client();
    check!(c, "SET a 1", Reply::ok());
    check!(c, "SHUTDOWN FOO", Reply::err("ERR syntax error"));
    if !against_redis() {
        check!(
            c,
            "SHUTDOWN ABORT",
            Reply::err("ERR No shutdown in progress.")
        );
    }
    assert!(s.alive());
    c.send(&["SHUTDOWN", "NOSAVE"]);
    let status = s
        .wait_exit(Duration::from_secs(20))
        .expect("ferrite did not exit after SHUTDOWN");
    assert!(status.success(), "exit status {status:?}");
    assert!(c.closed_within(Duration::from_secs(5)));
    assert!(bystander.closed_within(Duration::from_secs(5)));
    assert!(std::net::TcpStream::connect(s.addr()).is_err());
}
