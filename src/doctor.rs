//! `ferrite doctor`: checks a machine and a configuration before Ferrite runs there. Each check
//! gives PASS, WARN or FAIL with advice; any FAIL makes the command exit non-zero. It reads the
//! same typed [`Config`] the server does (DESIGN rule 8).

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::{default_config_path, Config};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    /// What to do about a WARN or FAIL.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub advice: String,
}

fn check(
    name: &'static str,
    status: Status,
    detail: impl Into<String>,
    advice: impl Into<String>,
) -> Check {
    Check {
        name,
        status,
        detail: detail.into(),
        advice: advice.into(),
    }
}

/// Runs every check. A configuration that does not load is reported and the machine checks run
/// against the defaults.
pub fn run(config_file: Option<&Path>) -> Vec<Check> {
    let path: Option<PathBuf> = config_file
        .map(Path::to_path_buf)
        .or_else(default_config_path);
    let mut checks = Vec::new();
    let config = match &path {
        Some(p) => match Config::load(p) {
            Ok(c) => {
                checks.push(check(
                    "config",
                    Status::Pass,
                    format!("{} parses and validates", p.display()),
                    "",
                ));
                c
            }
            Err(e) => {
                checks.push(check("config", Status::Fail, e.to_string(), "fix the key named above; ferrite.toml in the repository lists every key with its default"));
                Config::default()
            }
        },
        None => {
            checks.push(check(
                "config",
                Status::Pass,
                "no configuration file: using the defaults",
                "",
            ));
            Config::default()
        }
    };
    checks.push(port_free(
        "server port",
        &config.server.bind,
        config.server.port,
        "[server] port",
    ));
    if config.metrics.port != 0 {
        checks.push(port_free(
            "metrics port",
            &config.metrics.bind,
            config.metrics.port,
            "[metrics] port",
        ));
    }
    checks.push(kernel());
    checks.push(cores(&config));
    checks.push(transparent_huge_pages());
    checks.push(overcommit());
    checks.push(open_files(config.limits.maxclients));
    checks.push(persistence_dir(&config));
    if config.dataplane.mode == crate::config::DataplaneMode::AfXdp {
        checks.extend(dataplane(&config));
    }
    checks
}

/// The checkpoint directory: writable (or creatable), and its free space against the last
/// checkpoint there.
fn persistence_dir(config: &Config) -> Check {
    let dir = &config.persistence.dir;
    let existing = dir
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("."));
    let probe = existing.join(format!(".ferrite-doctor-{}", std::process::id()));
    if let Err(e) = std::fs::write(&probe, b"") {
        return check(
            "persistence dir",
            Status::Fail,
            format!("{} is not writable here ({e})", existing.display()),
            "set [persistence] dir to a directory Ferrite may write, or fix its permissions",
        );
    }
    let _ = std::fs::remove_file(&probe);
    let newest = crate::persist::saver::list(dir).pop();
    let last_size = newest
        .as_ref()
        .and_then(|p| std::fs::metadata(p).ok())
        .map_or(0, |m| m.len());
    let free = free_bytes(existing);
    let detail = format!(
        "{} is writable; {} free{}",
        dir.display(),
        free.map_or("unknown".into(), |b| format!("{} MiB", b >> 20)),
        newest.map_or(String::new(), |p| format!(
            "; newest checkpoint {} ({} KiB)",
            p.display(),
            last_size >> 10
        )),
    );
    match free {
        Some(free) if free < 2 * last_size => check(
            "persistence dir",
            Status::Warn,
            detail,
            "less free space than two checkpoints need: the next BGSAVE may fail with a full disk",
        ),
        _ => check("persistence dir", Status::Pass, detail, ""),
    }
}

fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a struct statvfs fills.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    (rc == 0).then(|| st.f_bavail as u64 * st.f_frsize as u64)
}

/// The AF_XDP dataplane's needs: the interface and its queues, privileges, locked memory.
fn dataplane(config: &Config) -> Vec<Check> {
    let dp = &config.dataplane;
    let mut checks = Vec::new();
    match netstack::xsk::interface_info(&dp.interface) {
        Ok((_, mac, queues)) => {
            let served = if dp.queues == 0 { queues } else { dp.queues };
            let shards = config.shard_count();
            checks.push(if served as usize > shards {
                check(
                    "dataplane interface",
                    Status::Fail,
                    format!("{} has {queues} receive queues, {served} to serve, but only {shards} shards", dp.interface),
                    format!("every served queue needs a shard: set [server] shards >= {served}, or reduce the queues (ethtool -L {} combined {shards}) and set [dataplane] queues", dp.interface),
                )
            } else {
                check(
                    "dataplane interface",
                    if served < queues { Status::Warn } else { Status::Pass },
                    format!(
                        "{} ({}) has {queues} receive queues, {served} served by {shards} shards",
                        dp.interface,
                        mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
                    ),
                    if served < queues { "frames for the dataplane arriving on unserved queues are dropped: serve them all (queues = 0)" } else { "" },
                )
            });
        }
        Err(e) => checks.push(check(
            "dataplane interface",
            Status::Fail,
            e.to_string(),
            "set [dataplane] interface to a NIC (ip -br link), or run scripts/lab.sh for a veth lab",
        )),
    }
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    checks.push(if root {
        check("dataplane privileges", Status::Pass, "running as root", "")
    } else {
        check(
            "dataplane privileges",
            Status::Warn,
            "not root: loading XDP and binding AF_XDP sockets need CAP_BPF, CAP_NET_ADMIN, CAP_NET_RAW and CAP_PERFMON",
            "run as root, or through ferrite-ops/systemd/ferrite.service, which grants them",
        )
    });
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) } == 0;
    let need = u64::from(dp.frame_size) * u64::from(dp.frame_count);
    checks.push(
        if !ok || lim.rlim_cur == libc::RLIM_INFINITY || lim.rlim_cur >= need || root {
            check(
                "dataplane locked memory",
                Status::Pass,
                format!(
                    "each queue's UMEM needs {} KiB of locked memory",
                    need / 1024
                ),
                "",
            )
        } else {
            check(
                "dataplane locked memory",
                Status::Fail,
                format!(
                    "memlock limit {} KiB is below one queue's UMEM ({} KiB)",
                    lim.rlim_cur / 1024,
                    need / 1024
                ),
                "raise it (ulimit -l unlimited, or LimitMEMLOCK=infinity in the service unit)",
            )
        },
    );
    checks
}

fn port_free(name: &'static str, bind: &str, port: u16, key: &str) -> Check {
    match TcpListener::bind((bind, port)) {
        Ok(_) => check(name, Status::Pass, format!("{bind}:{port} is free"), ""),
        Err(e) => check(
            name,
            Status::Fail,
            format!("cannot listen on {bind}:{port}: {e}"),
            format!("stop what holds it (`ss -ltnp 'sport = :{port}'`) or choose another {key}"),
        ),
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

fn kernel() -> Check {
    let Some(release) = read_trimmed("/proc/sys/kernel/osrelease") else {
        return check(
            "kernel",
            Status::Warn,
            "cannot read /proc/sys/kernel/osrelease",
            "run on Linux",
        );
    };
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse::<u32>().ok());
    let version = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if version >= (5, 10) {
        check("kernel", Status::Pass, format!("Linux {release}"), "")
    } else {
        check(
            "kernel",
            Status::Warn,
            format!("Linux {release}"),
            "the AF_XDP dataplane wants Linux 5.10 or newer (need_wakeup, busy-poll fixes)",
        )
    }
}

fn cores(config: &Config) -> Check {
    let usable = core_affinity::get_core_ids().map_or(1, |ids| ids.len().max(1));
    let shards = config.shard_count();
    if shards <= usable {
        check(
            "cores",
            Status::Pass,
            format!("{shards} shards on {usable} usable cores"),
            "",
        )
    } else {
        check(
            "cores",
            Status::Warn,
            format!("{shards} shards but only {usable} usable cores"),
            "shards share cores and preempt each other; set [server] shards to at most the core count (0 = one per core)",
        )
    }
}

fn transparent_huge_pages() -> Check {
    let Some(mode) = read_trimmed("/sys/kernel/mm/transparent_hugepage/enabled") else {
        return check(
            "transparent huge pages",
            Status::Pass,
            "not available on this kernel",
            "",
        );
    };
    if mode.contains("[always]") {
        check(
            "transparent huge pages",
            Status::Warn,
            format!("enabled: {mode}"),
            "latency spikes from huge-page compaction: echo madvise > /sys/kernel/mm/transparent_hugepage/enabled",
        )
    } else {
        check(
            "transparent huge pages",
            Status::Pass,
            format!("enabled: {mode}"),
            "",
        )
    }
}

fn overcommit() -> Check {
    match read_trimmed("/proc/sys/vm/overcommit_memory").as_deref() {
        Some("2") => check(
            "vm.overcommit_memory",
            Status::Warn,
            "2 (strict accounting)",
            "large allocations can fail well before memory runs out: sysctl vm.overcommit_memory=1",
        ),
        Some(v) => check("vm.overcommit_memory", Status::Pass, v.to_string(), ""),
        None => check(
            "vm.overcommit_memory",
            Status::Warn,
            "cannot read /proc/sys/vm/overcommit_memory",
            "",
        ),
    }
}

fn open_files(maxclients: usize) -> Check {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return check("open files", Status::Warn, "cannot read RLIMIT_NOFILE", "");
    }
    let needed = maxclients as u64 + 64;
    let detail = format!(
        "limit {} (hard {}), maxclients {maxclients} needs {needed}",
        lim.rlim_cur, lim.rlim_max
    );
    if lim.rlim_max >= needed {
        // Ferrite raises its soft limit itself up to the hard one.
        check("open files", Status::Pass, detail, "")
    } else {
        check(
            "open files",
            Status::Warn,
            detail,
            "clients beyond the limit are refused: raise the hard limit (LimitNOFILE= in the unit, ulimit -Hn) or lower [limits] maxclients",
        )
    }
}

/// Prints the checks for a person (or as JSON) and returns whether all passed without FAIL.
pub fn report(checks: &[Check], json: bool) -> bool {
    if json {
        match serde_json::to_string_pretty(checks) {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("ferrite doctor: cannot encode JSON: {e}"),
        }
    } else {
        for c in checks {
            let tag = match c.status {
                Status::Pass => "PASS",
                Status::Warn => "WARN",
                Status::Fail => "FAIL",
            };
            println!("{tag}  {:<24} {}", c.name, c.detail);
            if !c.advice.is_empty() {
                println!("      {:<24} -> {}", "", c.advice);
            }
        }
    }
    checks.iter().all(|c| c.status != Status::Fail)
}
