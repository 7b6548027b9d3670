//! Start-up and the control-plane thread.
//!
//! The control plane owns the kernel-socket listener: it accepts connections and hands each to a
//! shard (round robin), which serves it from then on; no thread relays commands. It also owns
//! signals (SIGINT/SIGTERM stop the server cleanly) and, as their issues land, metrics, checkpoints
//! and the cluster bus. [`Server`] is the little state every thread shares: the message mesh,
//! id counters and the shutdown flag.

use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use mio::net::TcpListener;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::config::Config;
use crate::shard::{Mesh, Msg, Shard};

const LISTENER: Token = Token(0);
const SIGNALS: Token = Token(1);
const CONTROL_WAKER: Token = Token(2);

/// State shared by every thread. Written rarely; nothing on a shard's hot path writes here.
pub struct Server {
    pub config: Config,
    pub mesh: Mesh,
    pub next_client_id: AtomicU64,
    pub next_txid: AtomicU64,
    /// Connected clients, across shards.
    pub clients: AtomicUsize,
    pub maxclients: AtomicUsize,
    pub rejected_connections: AtomicU64,
    /// Failed AUTH / HELLO AUTH attempts (rare, so one shared counter is fine).
    pub auth_failures: AtomicU64,
    shutdown: AtomicBool,
    control_waker: Waker,
    pub started: Instant,
    /// Unix seconds at start.
    pub started_unix: u64,
    pub run_id: String,
    /// The address the listener really bound (port 0 picks one).
    pub addr: SocketAddr,
    pub config_file: Option<std::path::PathBuf>,
    /// The kernel-bypass dataplane, when `[dataplane] mode = "af_xdp"`.
    pub dataplane: Option<crate::dataplane::Dataplane>,
    pub persistence: crate::persist::saver::Persistence,
    /// What start-up loaded, if anything.
    pub loaded: Option<crate::persist::load::Loaded>,
    /// How SHUTDOWN asked to stop: save or not, overriding the configuration.
    shutdown_save: std::sync::atomic::AtomicU8,
    /// The once-a-second fsync of the append-only log (`aof_fsync = "everysec"`).
    pub aof_syncer: Option<Arc<crate::persist::aof::Syncer>>,
}

impl Server {
    /// Asks the control plane to stop the server (SHUTDOWN). `save`: Some(true) for SAVE,
    /// Some(false) for NOSAVE, None for what the configuration says.
    pub fn request_shutdown(&self, save: Option<bool>) {
        self.shutdown_save.store(
            match save {
                None => 0,
                Some(true) => 1,
                Some(false) => 2,
            },
            Ordering::SeqCst,
        );
        self.shutdown.store(true, Ordering::SeqCst);
        let _ = self.control_waker.wake();
    }

    /// Whether stopping now should save first.
    fn save_on_shutdown(&self) -> bool {
        match self.shutdown_save.load(Ordering::SeqCst) {
            1 => true,
            2 => false,
            _ => self.config.persistence.checkpoint_enabled,
        }
    }

    pub fn shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }
}

/// Runs Ferrite until SIGINT, SIGTERM or SHUTDOWN.
pub fn run(
    config: Config,
    config_file: Option<std::path::PathBuf>,
    restore: Option<std::path::PathBuf>,
) -> io::Result<()> {
    raise_fd_limit(config.limits.maxclients as u64 + 64);
    crate::keyspace::thresholds::configure(&config.encodings);
    if let Some(flags) = crate::keyspace::notify::parse(&config.server.notify_keyspace_events) {
        crate::keyspace::notify::set_flags(flags);
    }
    let addr = format!("{}:{}", config.server.bind, config.server.port);
    let std_listener = StdListener::bind(&addr)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    let mut listener = TcpListener::from_std(std_listener);

    let shards = config.shard_count();
    let (keyspaces, loaded) = crate::persist::load::initial_keyspaces(
        &config.persistence.dir,
        restore.as_deref(),
        shards,
        config.server.databases,
    )
    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    if let Some(l) = &loaded {
        tracing::info!(path = %l.path.display(), format = l.format, keys = l.keys, expired_skipped = l.expired_skipped, "data loaded");
    }
    let mut keyspaces = keyspaces;
    let (logs, aof_syncer) =
        open_logs(&config, restore.is_some(), loaded.as_ref(), &mut keyspaces)?;
    // Detaches the XDP program when dropped, after the shards have stopped.
    let mut _xdp_program = None;
    let (dataplane, mut setups) = match config.dataplane.mode {
        crate::config::DataplaneMode::Kernel => (None, Vec::new()),
        crate::config::DataplaneMode::AfXdp => {
            let (dp, program, setups) = crate::dataplane::start(&config.dataplane, shards)?;
            _xdp_program = Some(program);
            tracing::info!(
                interface = %dp.interface,
                address = %dp.local,
                queues = dp.queues,
                xdp_mode = ?dp.xdp_mode,
                zero_copy = dp.zero_copy,
                "dataplane attached"
            );
            (Some(dp), setups)
        }
    };
    let mut polls = Vec::with_capacity(shards);
    let mut wakers = Vec::with_capacity(shards);
    for _ in 0..shards {
        let poll = Poll::new()?;
        wakers.push(Waker::new(poll.registry(), Token(usize::MAX))?);
        polls.push(poll);
    }
    let mut control = Poll::new()?;
    let control_waker = Waker::new(control.registry(), CONTROL_WAKER)?;
    control
        .registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;

    let (mut signal_rx, signal_tx) = UnixStream::pair()?;
    signal_rx.set_nonblocking(true)?;
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::low_level::pipe::register(sig, signal_tx.try_clone()?)?;
    }
    use std::os::fd::AsRawFd;
    control.registry().register(
        &mut SourceFd(&signal_rx.as_raw_fd()),
        SIGNALS,
        Interest::READABLE,
    )?;

    let now = crate::shard::now_ms();
    let config_persistence = config.persistence.clone();
    let server = Arc::new(Server {
        maxclients: AtomicUsize::new(config.limits.maxclients),
        config,
        mesh: Mesh::new(wakers),
        next_client_id: AtomicU64::new(0),
        next_txid: AtomicU64::new(0),
        clients: AtomicUsize::new(0),
        rejected_connections: AtomicU64::new(0),
        auth_failures: AtomicU64::new(0),
        shutdown: AtomicBool::new(false),
        control_waker,
        started: Instant::now(),
        started_unix: now / 1000,
        run_id: format!(
            "{:016x}{:024x}",
            rand::random::<u64>(),
            rand::random::<u128>() >> 32
        ),
        addr,
        config_file,
        dataplane,
        persistence: crate::persist::saver::Persistence::new(config_persistence, now / 1000),
        loaded,
        shutdown_save: std::sync::atomic::AtomicU8::new(0),
        aof_syncer,
    });

    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let mut threads = Vec::with_capacity(shards);
    let mut setups = setups.drain(..).map(Some).collect::<Vec<_>>();
    setups.resize_with(shards, || None);
    let shard_inputs = polls
        .into_iter()
        .enumerate()
        .zip(setups)
        .zip(keyspaces)
        .zip(logs);
    for ((((id, poll), setup), ks), log) in shard_inputs {
        let server = server.clone();
        let core = (!cores.is_empty()).then(|| cores[id % cores.len()]);
        let thread = std::thread::Builder::new()
            .name(format!("shard-{id}"))
            .spawn(move || {
                if let Some(core) = core {
                    if !core_affinity::set_for_current(core) {
                        tracing::warn!(shard = id, core = core.id, "cannot pin shard to its core");
                    }
                }
                Shard::new(id, server, poll, setup, ks, log).run();
            })?;
        threads.push(thread);
    }
    tracing::info!(
        %addr,
        shards,
        databases = server.config.server.databases,
        auth = !server.config.server.requirepass.is_empty(),
        maxclients = server.config.limits.maxclients,
        proto_max_bulk_len = server.config.limits.proto_max_bulk_len,
        hz = server.config.server.hz,
        metrics_port = server.config.metrics.port,
        config = %server.config_file.as_ref().map_or("(defaults)".into(), |p| p.display().to_string()),
        version = env!("CARGO_PKG_VERSION"),
        "ferrite ready to accept connections"
    );

    // A restored backup becomes the directory's newest checkpoint, so a restart (and the log,
    // which starts over from it) continues from it rather than from older files.
    let p = &server.config.persistence;
    if restore.is_some() && (p.aof_enabled || p.checkpoint_enabled) {
        let _ = crate::persist::saver::start(&server, None, None);
    }
    let metrics = match server.config.metrics.port {
        0 => None,
        port => {
            let addr = format!("{}:{port}", server.config.metrics.bind);
            match crate::metrics::MetricsEndpoint::start(server.clone(), &addr) {
                Ok(m) => {
                    tracing::info!(addr = %m.addr, "metrics endpoint up (/metrics, /health)");
                    Some(m)
                }
                Err(e) => {
                    tracing::error!(error = %e, "metrics endpoint not started; serving clients without it");
                    None
                }
            }
        }
    };

    let result = loop {
        let result = control_loop(&server, &mut control, &mut listener, &mut signal_rx);
        if result.is_ok() && server.save_on_shutdown() && !save_before_exit(&server) {
            // As Redis does: a stop that cannot save does not stop (SHUTDOWN NOSAVE still can).
            tracing::error!("not stopping: the shutdown save failed (see above); fix it, or stop with SHUTDOWN NOSAVE");
            server.shutdown.store(false, Ordering::SeqCst);
            continue;
        }
        break result;
    };
    if let Some(m) = metrics {
        m.stop();
    }
    for id in 0..shards {
        push_blocking(&server, id, Msg::Shutdown);
    }
    for t in threads {
        let _ = t.join();
    }
    tracing::info!("ferrite stopped");
    result
}

type ShardLogs = Vec<Option<crate::persist::aof::ShardLog>>;

/// With the append-only log on: replays the logs after the loaded checkpoint (not after a
/// --restore, whose file is the whole truth: the old logs are set aside instead), then opens a new
/// generation per shard.
fn open_logs(
    config: &Config,
    restored: bool,
    loaded: Option<&crate::persist::load::Loaded>,
    keyspaces: &mut [crate::keyspace::Keyspace],
) -> io::Result<(ShardLogs, Option<Arc<crate::persist::aof::Syncer>>)> {
    use crate::persist::aof;
    let p = &config.persistence;
    let shards = keyspaces.len();
    if !p.aof_enabled {
        return Ok(((0..shards).map(|_| None).collect(), None));
    }
    if restored {
        for (_, _, path) in aof::list(&p.dir) {
            let aside = path.with_extension("aof.before-restore");
            tracing::warn!(from = %path.display(), to = %aside.display(), "setting aside a log older than the restored backup");
            std::fs::rename(&path, &aside)?;
        }
    } else {
        let from = |shard: usize| {
            loaded
                .and_then(|l| l.aof_from.iter().find(|(s, _)| *s as usize == shard))
                .map_or(0, |(_, g)| *g)
        };
        let applied = aof::replay(&p.dir, &from, keyspaces, config.limits.proto_max_bulk_len)
            .map_err(|e| {
                io::Error::new(io::ErrorKind::InvalidData, format!("append-only log: {e}"))
            })?;
        if applied > 0 {
            tracing::info!(records = applied, "append-only log replayed");
        }
    }
    let logs = (0..shards)
        .map(|shard| aof::ShardLog::open(&p.dir, shard, shards, p.aof_fsync).map(Some))
        .collect::<io::Result<ShardLogs>>()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot open the append-only log in {}: {e}",
                    p.dir.display()
                ),
            )
        })?;
    let syncer = match p.aof_fsync {
        aof::FsyncPolicy::Everysec => Some(aof::Syncer::start()?),
        _ => None,
    };
    Ok((logs, syncer))
}

/// Takes a checkpoint before the server stops; waits for a save in progress first.
fn save_before_exit(server: &Arc<Server>) -> bool {
    while server.persistence.in_progress() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    tracing::info!("saving before exit");
    let (tx, rx) = std::sync::mpsc::channel();
    let started = crate::persist::saver::start(
        server,
        None,
        Some(Box::new(move |outcome| {
            let _ = tx.send(outcome);
        })),
    );
    started.is_ok() && matches!(rx.recv(), Ok(Ok(())))
}

fn control_loop(
    server: &Arc<Server>,
    poll: &mut Poll,
    listener: &mut TcpListener,
    signals: &mut UnixStream,
) -> io::Result<()> {
    let mut events = Events::with_capacity(64);
    let shards = server.mesh.shards();
    let mut next_shard = 0;
    let persistence = &server.config.persistence;
    let interval = std::time::Duration::from_secs(persistence.checkpoint_interval);
    let mut next_checkpoint = persistence
        .checkpoint_enabled
        .then(|| Instant::now() + interval);
    loop {
        if let Some(at) = next_checkpoint.filter(|at| Instant::now() >= *at) {
            if crate::persist::saver::start(server, None, None).is_err() {
                tracing::info!("scheduled checkpoint skipped: a save is in progress");
            }
            next_checkpoint = Some(at + interval);
        }
        let timeout = next_checkpoint.map(|at| at.saturating_duration_since(Instant::now()));
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for ev in events.iter() {
            match ev.token() {
                LISTENER => loop {
                    match listener.accept() {
                        Ok((stream, peer)) => {
                            let max = server.maxclients.load(Ordering::Relaxed);
                            if server.clients.fetch_add(1, Ordering::Relaxed) >= max {
                                server.clients.fetch_sub(1, Ordering::Relaxed);
                                server.rejected_connections.fetch_add(1, Ordering::Relaxed);
                                refuse(stream, "-ERR max number of clients reached\r\n");
                                tracing::debug!(%peer, "refused connection: max number of clients reached");
                                continue;
                            }
                            let _ = stream.set_nodelay(true);
                            // Ids follow accept order, as Redis documents for CLIENT ID.
                            let id = server.next_client_id.fetch_add(1, Ordering::Relaxed) + 1;
                            push_blocking(server, next_shard, Msg::Accept(stream, id));
                            next_shard = (next_shard + 1) % shards;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            // EMFILE and friends: log, back off a little, keep serving.
                            tracing::warn!(error = %e, "accept failed");
                            std::thread::sleep(std::time::Duration::from_millis(10));
                            break;
                        }
                    }
                },
                SIGNALS => {
                    let mut buf = [0u8; 16];
                    let _ = io::Read::read(signals, &mut buf);
                    tracing::info!("received a stop signal, shutting down");
                    return Ok(());
                }
                _ => {}
            }
        }
        if server.shutting_down() {
            tracing::info!("SHUTDOWN requested by a client");
            return Ok(());
        }
    }
}

/// Hands a message from the control plane to a shard, waiting as long as its queue is full.
fn push_blocking(server: &Server, shard: usize, mut msg: Msg) {
    let patience = std::time::Duration::from_secs(1);
    while let Err(back) = server
        .mesh
        .push_from_outside(shard, msg, Instant::now() + patience)
    {
        tracing::warn!(shard, "shard queue full for a second; still waiting");
        msg = back;
    }
}

fn refuse(stream: mio::net::TcpStream, msg: &str) {
    let _ = io::Write::write(&mut &stream, msg.as_bytes());
}

/// Lets the process hold as many sockets as `maxclients` needs, up to the hard limit.
fn raise_fd_limit(wanted: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < wanted {
            let target = wanted.min(lim.rlim_max);
            lim.rlim_cur = target;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                tracing::warn!(wanted, "cannot raise the open-file limit");
            } else if target < wanted {
                tracing::warn!(
                    wanted,
                    got = target,
                    "open-file limit is below what maxclients needs"
                );
            }
        }
    }
}
