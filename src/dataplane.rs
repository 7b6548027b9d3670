//! Start-up of the kernel-bypass dataplane (`[dataplane] mode = "af_xdp"`), on the control plane
//! before the shards start: read the interface, load the XDP program, open one AF_XDP port per
//! NIC queue and register it in the program's XSKMAP, then attach the program. Each port and a
//! userspace TCP endpoint go to the shard serving that queue (`shard/dataplane.rs`).
//!
//! The program is attached last, so no frame is steered to a queue whose socket is not ready, and
//! detached when the [`XdpProgram`] returned by [`start`] drops at shutdown (it stays on the
//! control-plane thread: libbpf's object is not thread-safe).

use std::io;
use std::net::SocketAddrV4;
use std::time::Duration;

use netstack::iface::{Config as EndpointConfig, Interface};
use netstack::xdp::{AttachMode, CounterReader, XdpProgram};
use netstack::xsk::{self, Port, PortConfig};

use crate::config::{BindMode, DataplaneConfig, XdpMode};
use crate::shard::DataplaneSetup;

/// What every thread may read about the running dataplane.
pub struct Dataplane {
    pub counters: CounterReader,
    pub interface: String,
    pub local: SocketAddrV4,
    pub queues: u32,
    pub xdp_mode: AttachMode,
    pub zero_copy: bool,
}

/// Prepares the dataplane for `shards` shards: one setup per served queue, shard i serving queue i.
pub fn start(
    config: &DataplaneConfig,
    shards: usize,
) -> io::Result<(Dataplane, XdpProgram, Vec<DataplaneSetup>)> {
    let (addr, prefix_len) = config
        .parse_address()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.0))?;
    let (ifindex, mac, nic_queues) = xsk::interface_info(&config.interface)?;
    let queues = match config.queues {
        0 => nic_queues,
        n => n,
    };
    if queues as usize > shards {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} has {queues} receive queues to serve but Ferrite runs {shards} shards: every \
                 queue needs a shard; set [server] shards >= {queues}, or [dataplane] queues = \
                 {shards} after `ethtool -L {} combined {shards}`",
                config.interface, config.interface
            ),
        ));
    }
    if queues < nic_queues {
        tracing::warn!(
            interface = %config.interface,
            served = queues,
            nic_queues,
            "the interface has more receive queues than are served: dataplane frames arriving on the others are dropped"
        );
    }
    let mut program = XdpProgram::load(addr)?;
    let local = SocketAddrV4::new(addr, config.port);
    let mut setups = Vec::with_capacity(queues as usize);
    let mut zero_copy = true;
    for queue in 0..queues {
        let port = Port::open(&PortConfig {
            interface: config.interface.clone(),
            queue,
            frame_size: config.frame_size,
            frame_count: config.frame_count,
            ring_size: config.ring_size,
            bind_mode: match config.bind_mode {
                BindMode::Auto => xsk::BindMode::Auto,
                BindMode::ZeroCopy => xsk::BindMode::ZeroCopy,
                BindMode::Copy => xsk::BindMode::Copy,
            },
        })?;
        zero_copy &= port.zero_copy();
        program.register_socket(queue, port.fd())?;
        let iface = Interface::new(EndpointConfig {
            mac,
            addr,
            prefix_len,
            port: config.port,
            backlog: config.backlog,
            max_connections: config.max_connections,
            min_rto: Duration::from_millis(config.min_rto_ms),
            verify_checksums: config.verify_checksums,
            ..EndpointConfig::default()
        });
        setups.push(DataplaneSetup {
            port,
            iface,
            local,
            busy_poll: config.busy_poll,
        });
    }
    let xdp_mode = program.attach(
        ifindex,
        match config.xdp_mode {
            XdpMode::Auto => AttachMode::Auto,
            XdpMode::Native => AttachMode::Native,
            XdpMode::Generic => AttachMode::Generic,
        },
    )?;
    let counters = program.counter_reader()?;
    Ok((
        Dataplane {
            counters,
            interface: config.interface.clone(),
            local,
            queues,
            xdp_mode,
            zero_copy,
        },
        program,
        setups,
    ))
}
