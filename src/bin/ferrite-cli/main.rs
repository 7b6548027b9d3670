//! `ferrite-cli`: a command-line client for Ferrite (and Redis), in the manner of `redis-cli`.
//!
//! One-shot: `ferrite-cli [-h host] [-p port] [-a pass] [-n db] [--resp3] CMD ARGS...` prints the
//! reply and exits non-zero on an error reply or a failed connection (so `ferrite-cli PING` is a
//! health check: exit 0 only on PONG). Without a command it starts a REPL with history.
//! `--stat`, `--latency` and `--scan [--pattern P]` are the monitoring modes of `tools`.

mod tools;

use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ferrite::resp::split_inline_args;

#[derive(Parser, Debug)]
#[command(
    name = "ferrite-cli",
    version,
    about = "Command-line client for Ferrite",
    disable_help_flag = true
)]
struct Args {
    /// Server hostname.
    #[arg(short = 'h', default_value = "127.0.0.1")]
    host: String,
    /// Server port.
    #[arg(short = 'p', default_value_t = 6379)]
    port: u16,
    /// Password for AUTH.
    #[arg(short = 'a')]
    password: Option<String>,
    /// Database number.
    #[arg(short = 'n', default_value_t = 0)]
    db: u32,
    /// Speak RESP3 (HELLO 3).
    #[arg(long = "resp3")]
    resp3: bool,
    /// Print raw replies (the default when output is not a terminal).
    #[arg(long = "raw")]
    raw: bool,
    /// Rolling figures: keys, memory, clients, requests, connections.
    #[arg(long)]
    stat: bool,
    /// Measure PING round trips continuously.
    #[arg(long)]
    latency: bool,
    /// List every key with SCAN.
    #[arg(long)]
    scan: bool,
    /// With --scan: only keys matching this glob pattern.
    #[arg(long, value_name = "PATTERN")]
    pattern: Option<String>,
    /// Seconds between --stat lines and --latency reports.
    #[arg(short = 'i', default_value_t = 1.0, value_name = "SECONDS")]
    interval: f64,
    /// Print help.
    #[arg(long = "help", action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// The command to run; none starts the interactive prompt.
    command: Vec<String>,
}

/// A reply as read off the wire.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    Nil,
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Set(Vec<Value>),
    Double(String),
    Bool(bool),
    Verbatim(String),
    Push(Vec<Value>),
}

/// Largest aggregate or bulk this client accepts from a server.
const MAX_LEN: i64 = 1 << 31;

struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(host: &str, port: u16) -> io::Result<Client> {
        let stream = TcpStream::connect((host, port))?;
        stream.set_nodelay(true)?;
        Ok(Client {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    fn call(&mut self, args: &[Vec<u8>]) -> io::Result<Value> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&out)?;
        self.read_value()
    }

    fn read_line(&mut self) -> io::Result<String> {
        let mut line = Vec::new();
        if self.reader.read_until(b'\n', &mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "Server closed the connection",
            ));
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        Ok(String::from_utf8_lossy(&line).into_owned())
    }

    fn read_len(&mut self, text: &str) -> io::Result<i64> {
        let n: i64 = text
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad length in reply"))?;
        if n > MAX_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "reply too large",
            ));
        }
        Ok(n)
    }

    fn read_items(&mut self, n: i64) -> io::Result<Vec<Value>> {
        (0..n.max(0)).map(|_| self.read_value()).collect()
    }

    fn read_value(&mut self) -> io::Result<Value> {
        let line = self.read_line()?;
        let (kind, rest) = line.split_at(line.len().min(1));
        Ok(match kind {
            "+" => Value::Status(rest.into()),
            "-" => Value::Error(rest.into()),
            ":" => Value::Int(rest.parse().unwrap_or(0)),
            "_" => Value::Nil,
            "," => Value::Double(rest.into()),
            "#" => Value::Bool(rest == "t"),
            "(" => Value::Status(rest.into()),
            "$" | "=" | "!" => {
                let n = self.read_len(rest)?;
                if n < 0 {
                    return Ok(Value::Nil);
                }
                let mut buf = vec![0u8; n as usize + 2];
                self.reader.read_exact(&mut buf)?;
                buf.truncate(n as usize);
                match kind {
                    "=" => Value::Verbatim(
                        String::from_utf8_lossy(buf.get(4..).unwrap_or(&[])).into_owned(),
                    ),
                    "!" => Value::Error(String::from_utf8_lossy(&buf).into_owned()),
                    _ => Value::Bulk(buf),
                }
            }
            "*" | "~" | ">" => {
                let n = self.read_len(rest)?;
                if n < 0 {
                    return Ok(Value::Nil);
                }
                let items = self.read_items(n)?;
                match kind {
                    "~" => Value::Set(items),
                    ">" => Value::Push(items),
                    _ => Value::Array(items),
                }
            }
            "%" | "|" => {
                let n = self.read_len(rest)?;
                let mut pairs = Vec::new();
                for _ in 0..n.max(0) {
                    pairs.push((self.read_value()?, self.read_value()?));
                }
                Value::Map(pairs)
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("unexpected reply: {line}"),
                ))
            }
        })
    }
}

/// redis-cli's quoting of bulk strings in terminal mode.
fn quoted(b: &[u8]) -> String {
    let mut s = String::from("\"");
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            7 => s.push_str("\\a"),
            8 => s.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => s.push(c as char),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

/// Formats a reply the way redis-cli does on a terminal.
fn pretty(v: &Value, indent: usize) -> String {
    match v {
        Value::Status(s) => s.clone(),
        Value::Error(e) => format!("(error) {e}"),
        Value::Int(n) => format!("(integer) {n}"),
        Value::Bulk(b) => quoted(b),
        Value::Nil => "(nil)".into(),
        Value::Double(d) => format!("(double) {d}"),
        Value::Bool(b) => format!("({b})"),
        Value::Verbatim(t) => t.clone(),
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            if items.is_empty() {
                return if matches!(v, Value::Set(_)) {
                    "(empty set)".into()
                } else {
                    "(empty array)".into()
                };
            }
            let width = items.len().to_string().len();
            let mut out = String::new();
            for (i, item) in items.iter().enumerate() {
                let prefix = format!("{:>width$}) ", i + 1);
                if i > 0 {
                    out.push('\n');
                    out.push_str(&" ".repeat(indent));
                }
                out.push_str(&prefix);
                out.push_str(&pretty(item, indent + prefix.len()));
            }
            out
        }
        Value::Map(pairs) => {
            if pairs.is_empty() {
                return "(empty hash)".into();
            }
            let width = pairs.len().to_string().len();
            let mut out = String::new();
            for (i, (k, val)) in pairs.iter().enumerate() {
                let prefix = format!("{:>width$}# ", i + 1);
                if i > 0 {
                    out.push('\n');
                    out.push_str(&" ".repeat(indent));
                }
                let key = pretty(k, indent + prefix.len());
                out.push_str(&prefix);
                out.push_str(&key);
                out.push_str(" => ");
                out.push_str(&pretty(val, indent + prefix.len() + key.len() + 4));
            }
            out
        }
    }
}

/// Raw output, as redis-cli prints when stdout is not a terminal.
fn raw(v: &Value) -> String {
    match v {
        Value::Status(s) | Value::Double(s) | Value::Verbatim(s) => s.clone(),
        Value::Error(e) => e.clone(),
        Value::Int(n) => n.to_string(),
        Value::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Nil => String::new(),
        Value::Bool(b) => (if *b { "1" } else { "0" }).into(),
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            items.iter().map(raw).collect::<Vec<_>>().join("\n")
        }
        Value::Map(pairs) => pairs
            .iter()
            .flat_map(|(k, v)| [raw(k), raw(v)])
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn setup(client: &mut Client, args: &Args) -> Result<(), String> {
    if let Some(pass) = &args.password {
        if let Value::Error(e) = client
            .call(&[b"AUTH".to_vec(), pass.as_bytes().to_vec()])
            .map_err(|e| e.to_string())?
        {
            return Err(format!("AUTH failed: {e}"));
        }
    }
    if args.resp3 {
        if let Value::Error(e) = client
            .call(&[b"HELLO".to_vec(), b"3".to_vec()])
            .map_err(|e| e.to_string())?
        {
            return Err(format!("HELLO 3 failed: {e}"));
        }
    }
    if args.db != 0 {
        if let Value::Error(e) = client
            .call(&[b"SELECT".to_vec(), args.db.to_string().into_bytes()])
            .map_err(|e| e.to_string())?
        {
            return Err(format!("SELECT failed: {e}"));
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut client = match Client::connect(&args.host, args.port) {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "Could not connect to Ferrite at {}:{}: {e}",
                args.host, args.port
            );
            return ExitCode::FAILURE;
        }
    };
    let _ = client
        .writer
        .set_read_timeout(Some(Duration::from_secs(60)));
    if let Err(e) = setup(&mut client, &args) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    let interval = Duration::from_secs_f64(args.interval.clamp(0.01, 3600.0));
    let mode = if args.stat {
        Some(tools::stat(&mut client, interval))
    } else if args.latency {
        Some(tools::latency(&mut client, interval))
    } else if args.scan {
        Some(tools::scan(&mut client, args.pattern.as_deref()))
    } else {
        None
    };
    if let Some(result) = mode {
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("Error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if args.command.is_empty() {
        return repl(client, &args);
    }
    let argv: Vec<Vec<u8>> = args.command.iter().map(|a| a.as_bytes().to_vec()).collect();
    let is_ping = args.command[0].eq_ignore_ascii_case("ping") && args.command.len() == 1;
    match client.call(&argv) {
        Ok(reply) => {
            let tty = io::stdout().is_terminal() && !args.raw;
            // Text reports (INFO, CLIENT LIST) print as text, not as a quoted string.
            let report = ["info", "client"]
                .iter()
                .any(|c| args.command[0].eq_ignore_ascii_case(c));
            println!(
                "{}",
                if tty && !report {
                    pretty(&reply, 0)
                } else {
                    raw(&reply)
                }
            );
            let failed = matches!(reply, Value::Error(_))
                || (is_ping && reply != Value::Status("PONG".into()));
            if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn repl(mut client: Client, args: &Args) -> ExitCode {
    let mut editor = match rustyline::DefaultEditor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cannot start the prompt: {e}");
            return ExitCode::FAILURE;
        }
    };
    let history =
        std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".ferritecli_history"));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    let mut db = args.db;
    loop {
        let prompt = if db == 0 {
            format!("{}:{}> ", args.host, args.port)
        } else {
            format!("{}:{}[{db}]> ", args.host, args.port)
        };
        let line = match editor.readline(&prompt) {
            Ok(l) => l,
            Err(
                rustyline::error::ReadlineError::Interrupted | rustyline::error::ReadlineError::Eof,
            ) => break,
            Err(e) => {
                eprintln!("{e}");
                break;
            }
        };
        let Some(words) = split_inline_args(line.as_bytes()) else {
            println!("Invalid argument(s)");
            continue;
        };
        if words.is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(line.as_str());
        let first = String::from_utf8_lossy(&words[0]).to_ascii_lowercase();
        if first == "quit" || first == "exit" {
            break;
        }
        let argv: Vec<Vec<u8>> = words.iter().map(|w| w.to_vec()).collect();
        match client.call(&argv) {
            Ok(reply) => {
                if first == "select" && matches!(reply, Value::Status(_)) {
                    db = String::from_utf8_lossy(&words[1]).parse().unwrap_or(db);
                }
                let report = first == "info" || first == "client";
                println!(
                    "{}",
                    if report {
                        raw(&reply)
                    } else {
                        pretty(&reply, 0)
                    }
                );
            }
            Err(e) => {
                println!("Error: {e}");
                match Client::connect(&args.host, args.port) {
                    Ok(c) => {
                        client = c;
                        if let Err(e) = setup(&mut client, args) {
                            println!("{e}");
                        }
                    }
                    Err(_) => println!("not connected"),
                }
            }
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    ExitCode::SUCCESS
}
