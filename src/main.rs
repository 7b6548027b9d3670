//! The `ferrite` server binary: flags, configuration, logging, then the server.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use ferrite::config::{default_config_path, Config};
use tracing_subscriber::EnvFilter;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum YesNo {
    Yes,
    No,
}

/// Ferrite: a Redis-compatible in-memory data store.
///
/// Settings come from the configuration file (ferrite.toml in the working directory if present,
/// or --config); the flags below override it. Logging follows RUST_LOG, e.g.
/// RUST_LOG=ferrite=debug.
#[derive(Parser, Debug)]
#[command(name = "ferrite", version, about, long_about)]
struct Args {
    /// Configuration file (TOML).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Port of the kernel-socket listener [default: 6379].
    #[arg(long, short = 'p')]
    port: Option<u16>,
    /// Address of the kernel-socket listener [default: 127.0.0.1].
    #[arg(long)]
    bind: Option<String>,
    /// Port of the Prometheus /metrics and /health endpoint; 0 turns it off [default: 9090].
    #[arg(long, value_name = "PORT")]
    metrics_port: Option<u16>,
    /// Shard threads, one per core [default: the cores this process may use].
    #[arg(long)]
    shards: Option<usize>,
    /// Require this password from clients (AUTH / HELLO AUTH).
    #[arg(long, value_name = "PASSWORD")]
    requirepass: Option<String>,
    /// Run as a Redis Cluster node.
    #[arg(long, value_name = "yes|no")]
    cluster_enabled: Option<YesNo>,
    /// Start from this backup (a *.ferrite.backup checkpoint, or a Redis dump.rdb), verified first.
    #[arg(long, value_name = "FILE")]
    restore: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check this machine and a configuration: PASS/WARN/FAIL with advice; exit 1 on any FAIL.
    Doctor {
        /// Configuration file to check [default: ./ferrite.toml if present].
        #[arg(long, short = 'c', value_name = "FILE")]
        config: Option<PathBuf>,
        /// Print the checks as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(Command::Doctor { config, json }) = &args.command {
        let checks = ferrite::doctor::run(config.as_deref());
        return if ferrite::doctor::report(&checks, *json) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    // A shard that panics would leave its clients hanging and its keys unreachable: make any
    // panic fatal, after the default report, so a supervisor restarts a whole server.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        std::process::abort();
    }));
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("ferrite=info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let config_path = args.config.clone().or_else(default_config_path);
    let mut config = match &config_path {
        Some(path) => match Config::load(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("ferrite: {e}");
                return ExitCode::from(2);
            }
        },
        None => Config::default(),
    };
    if let Some(port) = args.port {
        config.server.port = port;
    }
    if let Some(bind) = args.bind {
        config.server.bind = bind;
    }
    if let Some(port) = args.metrics_port {
        config.metrics.port = port;
    }
    if let Some(shards) = args.shards {
        config.server.shards = shards;
    }
    if let Some(pass) = args.requirepass {
        config.server.requirepass = pass;
    }
    if let Some(flag) = args.cluster_enabled {
        config.cluster.enabled = matches!(flag, YesNo::Yes);
    }
    if let Err(e) = config.validate() {
        eprintln!("ferrite: {e}");
        return ExitCode::from(2);
    }
    if config.cluster.enabled {
        eprintln!("ferrite: cluster mode is not available in this build yet; start without --cluster-enabled yes");
        return ExitCode::from(2);
    }
    match ferrite::server::run(config, config_path, args.restore) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferrite: {e}");
            ExitCode::FAILURE
        }
    }
}
