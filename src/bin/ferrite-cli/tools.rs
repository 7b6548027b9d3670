//! ferrite-cli's monitoring modes, after redis-cli's: `--stat` (rolling keys, memory, clients,
//! requests), `--latency` (PING round trips) and `--scan` (every key, optionally matching).

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use super::{Client, Value};

fn cmd(client: &mut Client, args: &[&str]) -> io::Result<Value> {
    let argv: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
    match client.call(&argv)? {
        Value::Error(e) => Err(io::Error::other(e)),
        v => Ok(v),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Verbatim(s) | Value::Status(s) => s.clone(),
        _ => String::new(),
    }
}

/// `INFO` fields as (name, value) pairs.
fn info(client: &mut Client) -> io::Result<Vec<(String, String)>> {
    let body = text(&cmd(client, &["INFO", "all"])?);
    Ok(body
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect())
}

fn field<'a>(info: &'a [(String, String)], name: &str) -> &'a str {
    info.iter()
        .find(|(k, _)| k == name)
        .map_or("0", |(_, v)| v.as_str())
}

/// Prints one line of figures every `interval`, with a header every 20 lines.
pub fn stat(client: &mut Client, interval: Duration) -> io::Result<()> {
    let mut last_requests: Option<u64> = None;
    for line in 0u64.. {
        let info = info(client)?;
        let keys: u64 = info
            .iter()
            .filter(|(k, _)| k.starts_with("db"))
            .filter_map(|(_, v)| {
                v.split(',')
                    .next()?
                    .strip_prefix("keys=")?
                    .parse::<u64>()
                    .ok()
            })
            .sum();
        let requests: u64 = field(&info, "total_commands_processed")
            .parse()
            .unwrap_or(0);
        if line % 20 == 0 {
            println!("------- data ------ --------------------- load --------------------");
            println!("keys       mem      clients blocked requests            connections");
        }
        let delta = last_requests.map_or(0, |l| requests.saturating_sub(l));
        println!(
            "{:<10} {:<8} {:<7} {:<7} {:<19} {}",
            keys,
            field(&info, "used_memory_human"),
            field(&info, "connected_clients"),
            field(&info, "blocked_clients"),
            format!("{requests} (+{delta})"),
            field(&info, "total_connections_received"),
        );
        io::stdout().flush()?;
        last_requests = Some(requests);
        std::thread::sleep(interval);
    }
    Ok(())
}

/// Measures PING round trips; prints min/max/avg in milliseconds every `interval` (in place on a
/// terminal, one line each otherwise).
pub fn latency(client: &mut Client, interval: Duration) -> io::Result<()> {
    let tty = io::stdout().is_terminal();
    let (mut min, mut max, mut total, mut samples) = (f64::MAX, 0f64, 0f64, 0u64);
    let mut next_report = Instant::now() + interval;
    loop {
        let started = Instant::now();
        cmd(client, &["PING"])?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        min = min.min(ms);
        max = max.max(ms);
        total += ms;
        samples += 1;
        if Instant::now() >= next_report {
            let line = format!(
                "min: {min:.2}, max: {max:.2}, avg: {:.2} ({samples} samples)",
                total / samples as f64
            );
            if tty {
                print!("\r\x1b[0K{line}");
            } else {
                println!("{line}");
            }
            io::stdout().flush()?;
            next_report = Instant::now() + interval;
        }
        // About 100 samples a second, as redis-cli takes.
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Prints every key (matching `pattern`), walking SCAN to the end.
pub fn scan(client: &mut Client, pattern: Option<&str>) -> io::Result<()> {
    let mut cursor = String::from("0");
    let mut out = io::BufWriter::new(io::stdout().lock());
    loop {
        let mut args = vec!["SCAN", cursor.as_str()];
        if let Some(p) = pattern {
            args.extend(["MATCH", p]);
        }
        args.extend(["COUNT", "1000"]);
        let Value::Array(reply) = cmd(client, &args)? else {
            return Err(io::Error::other("unexpected SCAN reply"));
        };
        let [next, Value::Array(keys)] = reply.as_slice() else {
            return Err(io::Error::other("unexpected SCAN reply"));
        };
        for k in keys {
            writeln!(out, "{}", text(k))?;
        }
        cursor = text(next);
        if cursor == "0" {
            return out.flush();
        }
    }
}
