//! One AF_XDP port: an XDP socket bound to one NIC queue, with its own UMEM (own UMEM per queue
//! sidesteps shared-UMEM trouble on veth, FACTS-xdp.md) and its four rings.
//!
//! Frames are owned in turn by userspace and the kernel. Invariants:
//! - Half the UMEM starts on the fill ring (for receive) and half in `free` (for transmit).
//! - A received frame goes back to the fill ring as soon as its callback returns: the protocol
//!   core copies what it keeps, so receive never starves.
//! - A transmitted frame returns to `free` through the completion ring.
//! - The kernel is kicked only when the ring asks for it (need_wakeup), and in copy mode once per
//!   32 descriptors, the most one `sendto` moves (FACTS-xdp.md).

use std::io;
use std::num::NonZeroU32;
use std::os::fd::RawFd;

use xsk_rs::config::{
    BindFlags, FrameSize, Interface as XskInterface, LibxdpFlags, QueueSize, SocketConfig,
    UmemConfig,
};
use xsk_rs::{CompQueue, FillQueue, FrameDesc, RxQueue, Socket, TxQueue, Umem};

use crate::phy::Transmit;

/// Frames the copy-mode kernel moves per `sendto`.
const COPY_MODE_TX_BATCH: usize = 32;

/// How the socket binds to its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindMode {
    /// Zero-copy where the driver supports it, else copy.
    Auto,
    ZeroCopy,
    Copy,
}

#[derive(Debug, Clone)]
pub struct PortConfig {
    pub interface: String,
    pub queue: u32,
    /// Bytes per UMEM frame (a power of two, 2048 or 4096).
    pub frame_size: u32,
    /// UMEM frames, half for receive and half for transmit.
    pub frame_count: u32,
    /// Descriptors per ring (a power of two).
    pub ring_size: u32,
    pub bind_mode: BindMode,
}

/// Counters of one port.
#[derive(Debug, Default, Clone, Copy)]
pub struct PortStats {
    pub rx_frames: u64,
    pub tx_frames: u64,
    /// Frames the stack wanted to send with no free UMEM frame or tx descriptor.
    pub tx_full: u64,
    /// `sendto` kicks issued.
    pub tx_kicks: u64,
    /// Fill-ring wake-ups issued.
    pub fill_wakeups: u64,
}

/// The transmit half of a port: frames waiting to be sent, and the free ones to build them in.
pub struct PortTx {
    umem: Umem,
    tx: TxQueue,
    cq: CompQueue,
    free: Vec<FrameDesc>,
    pending: Vec<FrameDesc>,
    completed: Vec<FrameDesc>,
    copy_mode: bool,
    stats: PortStats,
}

pub struct Port {
    rx: RxQueue,
    fq: FillQueue,
    rx_descs: Vec<FrameDesc>,
    side: PortTx,
    zero_copy: bool,
    umem_bytes: usize,
}

impl Port {
    /// Creates the UMEM and binds a socket to `config.queue` of `config.interface`. The XDP
    /// program is not touched: the caller registers [`Port::fd`] in its XSKMAP.
    pub fn open(config: &PortConfig) -> io::Result<Port> {
        let frame_count = NonZeroU32::new(config.frame_count.max(64))
            .ok_or_else(|| io::Error::other("frame_count must be positive"))?;
        let ring =
            QueueSize::new(config.ring_size).map_err(|e| invalid(format!("ring_size: {e}")))?;
        let umem_config = UmemConfig::builder()
            .frame_size(
                FrameSize::new(config.frame_size)
                    .map_err(|e| invalid(format!("frame_size: {e}")))?,
            )
            .fill_queue_size(ring)
            .comp_queue_size(ring)
            .build()
            .map_err(|e| invalid(format!("UMEM: {e}")))?;
        let (umem, mut descs) = Umem::new(umem_config, frame_count, false).map_err(|e| {
            io::Error::other(format!(
                "creating the UMEM failed ({e}); is the memlock limit high enough (ulimit -l)?"
            ))
        })?;
        let interface: XskInterface = config
            .interface
            .parse()
            .map_err(|_| invalid("interface name contains NUL".into()))?;
        let attempts: &[(BindFlags, bool)] = match config.bind_mode {
            BindMode::ZeroCopy => &[(BindFlags::XDP_ZEROCOPY, true)],
            BindMode::Copy => &[(BindFlags::XDP_COPY, false)],
            BindMode::Auto => &[
                (BindFlags::XDP_ZEROCOPY, true),
                (BindFlags::XDP_COPY, false),
            ],
        };
        let mut last_error = None;
        for &(mode, zero_copy) in attempts {
            let socket_config = SocketConfig::builder()
                .rx_queue_size(ring)
                .tx_queue_size(ring)
                .libxdp_flags(LibxdpFlags::XSK_LIBXDP_FLAGS_INHIBIT_PROG_LOAD)
                .bind_flags(mode | BindFlags::XDP_USE_NEED_WAKEUP)
                .build();
            // SAFETY: the UMEM is not shared; each port has its own.
            match unsafe { Socket::new(socket_config, &umem, &interface, config.queue) } {
                Ok((tx, rx, Some((mut fq, cq)))) => {
                    // Receive gets half the frames, at most what the fill ring holds; the rest
                    // are transmit buffers.
                    let rx_frames = (descs.len() / 2).min(config.ring_size as usize);
                    let mut free = descs.split_off(rx_frames);
                    // SAFETY: these frames belong to this UMEM and nothing else holds them.
                    let filled = unsafe { fq.produce(&descs) };
                    free.extend_from_slice(&descs[filled..]);
                    return Ok(Port {
                        rx,
                        fq,
                        rx_descs: vec![FrameDesc::default(); 64],
                        side: PortTx {
                            umem,
                            tx,
                            cq,
                            pending: Vec::with_capacity(free.len()),
                            completed: vec![FrameDesc::default(); 64],
                            free,
                            copy_mode: !zero_copy,
                            stats: PortStats::default(),
                        },
                        zero_copy,
                        umem_bytes: frame_count.get() as usize * config.frame_size as usize,
                    });
                }
                Ok(_) => {
                    last_error = Some(io::Error::other(
                        "the socket came without fill and completion rings",
                    ))
                }
                Err(e) => last_error = Some(io::Error::other(e.to_string())),
            }
        }
        let e = last_error.unwrap_or_else(|| io::Error::other("no bind mode to try"));
        Err(io::Error::other(format!(
            "binding an AF_XDP socket to {} queue {} failed: {e}{}",
            config.interface,
            config.queue,
            if config.bind_mode == BindMode::ZeroCopy {
                " (zero-copy needs driver support; veth has none: use bind_mode = \"copy\")"
            } else {
                ""
            }
        )))
    }

    /// The socket's fd: register it in the XSKMAP, and wait on it for receive readiness.
    pub fn fd(&self) -> RawFd {
        use std::os::fd::AsRawFd;
        self.rx.fd().as_raw_fd()
    }

    /// Bytes of UMEM this port holds.
    pub fn umem_bytes(&self) -> usize {
        self.umem_bytes
    }

    /// Most frames one [`Port::receive`] call takes.
    pub fn batch_size(&self) -> usize {
        self.rx_descs.len()
    }

    pub fn zero_copy(&self) -> bool {
        self.zero_copy
    }

    pub fn stats(&self) -> PortStats {
        self.side.stats
    }

    /// Receives up to one batch of frames, calling `on_frame(frame, tx)` for each, and hands the
    /// frames back to the fill ring. Returns how many arrived (a full batch means more may wait).
    pub fn receive<F: FnMut(&[u8], &mut PortTx)>(&mut self, mut on_frame: F) -> usize {
        // SAFETY: the descriptors come back from this UMEM's rx ring.
        let n = unsafe { self.rx.consume(&mut self.rx_descs) };
        if n == 0 {
            self.wake_fill_if_needed();
            return 0;
        }
        self.side.stats.rx_frames += n as u64;
        let umem = self.side.umem.clone();
        for desc in &self.rx_descs[..n] {
            // SAFETY: the kernel handed this frame over and gets it back only below.
            let data = unsafe { umem.data(desc) };
            on_frame(data.contents(), &mut self.side);
        }
        // The ring took these frames off the fill ring, so it has room for them again; should it
        // not (produce is all-or-nothing), the frames serve transmit instead of being lost.
        let room = (self.fq.nb_free(n as u32) as usize).min(n);
        // SAFETY: the frames were consumed above and are no longer read.
        let refilled = if room > 0 {
            unsafe { self.fq.produce(&self.rx_descs[..room]) }
        } else {
            0
        };
        self.side
            .free
            .extend_from_slice(&self.rx_descs[refilled..n]);
        self.wake_fill_if_needed();
        n
    }

    fn wake_fill_if_needed(&mut self) {
        if self.fq.needs_wakeup() {
            self.side.stats.fill_wakeups += 1;
            let _ = self.fq.wakeup(self.rx.fd_mut(), 0);
        }
    }

    /// The transmit side, for the protocol core's timers and the application's writes.
    pub fn transmitter(&mut self) -> &mut PortTx {
        &mut self.side
    }

    /// Puts every frame built since the last flush on the tx ring and kicks the kernel if it asks.
    pub fn flush(&mut self) {
        self.side.flush();
    }
}

impl PortTx {
    fn reclaim(&mut self) {
        loop {
            // SAFETY: completed descriptors belong to this UMEM and the kernel is done with them.
            let n = unsafe { self.cq.consume(&mut self.completed) };
            if n == 0 {
                break;
            }
            self.free.extend_from_slice(&self.completed[..n]);
        }
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            self.reclaim();
            return;
        }
        // produce is all-or-nothing: offer what the ring has room for.
        let room = (self.tx.nb_free(self.pending.len() as u32) as usize).min(self.pending.len());
        // SAFETY: pending frames were built by `transmit` and are not touched again until they
        // come back on the completion ring.
        let produced = if room > 0 {
            unsafe { self.tx.produce(&self.pending[..room]) }
        } else {
            0
        };
        self.pending.drain(..produced);
        self.stats.tx_frames += produced as u64;
        if self.tx.needs_wakeup() || self.copy_mode {
            let kicks = if self.copy_mode {
                produced.div_ceil(COPY_MODE_TX_BATCH).max(1)
            } else {
                1
            };
            for _ in 0..kicks {
                self.stats.tx_kicks += 1;
                let _ = self.tx.wakeup();
            }
        }
        self.reclaim();
    }
}

impl Transmit for PortTx {
    fn transmit<F: FnOnce(&mut [u8])>(&mut self, len: usize, emit: F) -> bool {
        if self.free.is_empty() {
            self.reclaim();
            if self.free.is_empty() && !self.pending.is_empty() {
                self.flush();
            }
        }
        let Some(mut desc) = self.free.pop() else {
            self.stats.tx_full += 1;
            return false;
        };
        // SAFETY: the frame came from `free`: neither the kernel nor any other borrow uses it.
        let mut data = unsafe { self.umem.data_mut(&mut desc) };
        let fits = data.cursor().buf_len() >= len;
        if fits {
            // Sets the descriptor's length; the frame is then built in place.
            data.cursor().set_pos(len);
            emit(data.contents_mut());
        }
        if !fits {
            self.free.push(desc);
            self.stats.tx_full += 1;
            return false;
        }
        self.pending.push(desc);
        if self.pending.len() >= COPY_MODE_TX_BATCH * 2 {
            self.flush();
        }
        true
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// The interface's index, MAC address and number of receive queues, read from sysfs.
pub fn interface_info(name: &str) -> io::Result<(u32, [u8; 6], u32)> {
    if name.is_empty() || name.contains('/') || name.contains("..") {
        return Err(invalid(format!("bad interface name {name:?}")));
    }
    let base = std::path::Path::new("/sys/class/net").join(name);
    let read = |file: &str| {
        std::fs::read_to_string(base.join(file)).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("interface {name}: cannot read {file} ({e}); does it exist in this network namespace?"),
            )
        })
    };
    let ifindex: u32 = read("ifindex")?
        .trim()
        .parse()
        .map_err(|_| io::Error::other(format!("interface {name}: bad ifindex")))?;
    let mut mac = [0u8; 6];
    let text = read("address")?;
    let parts: Vec<&str> = text.trim().split(':').collect();
    if parts.len() != 6 {
        return Err(io::Error::other(format!(
            "interface {name} has no Ethernet address"
        )));
    }
    for (slot, part) in mac.iter_mut().zip(parts) {
        *slot = u8::from_str_radix(part, 16)
            .map_err(|_| io::Error::other(format!("interface {name}: bad address {text:?}")))?;
    }
    let queues = std::fs::read_dir(base.join("queues"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("rx-"))
                .count() as u32
        })
        .unwrap_or(1)
        .max(1);
    Ok((ifindex, mac, queues))
}
