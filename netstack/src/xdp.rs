//! Loads Ferrite's XDP program (`bpf/ferrite.bpf.c`, compiled by `build.rs` and embedded here),
//! tells it the dataplane address, registers each queue's AF_XDP socket in its XSKMAP and attaches
//! it to the interface. Dropping [`XdpProgram`] detaches it.
//!
//! Attachment goes through netlink (`bpf_xdp_attach`), which outlives the process: a run that
//! crashed leaves its program behind. [`XdpProgram::attach`] therefore replaces a program of ours
//! found on the interface, and refuses to touch anyone else's.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd, RawFd};

use libbpf_rs::query::ProgInfoIter;
use libbpf_rs::{MapCore, MapFlags, MapHandle, Object, ObjectBuilder, Xdp, XdpFlags};

static PROGRAM_OBJECT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ferrite.bpf.o"));
const PROGRAM_NAME: &str = "ferrite_xdp";

/// How the program is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachMode {
    /// Native (driver) mode where the driver supports it, else generic.
    Auto,
    /// Driver mode: the frame never becomes an skb before the program sees it.
    Native,
    /// Generic (skb) mode: works on any interface, slower on real NICs.
    Generic,
}

/// The per-CPU counters the program keeps, summed over CPUs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct XdpCounters {
    /// Frames for the dataplane sent to an AF_XDP socket.
    pub redirected: u64,
    /// Frames passed to the kernel (not for the dataplane).
    pub passed: u64,
    /// Frames for the dataplane on a queue with no socket.
    pub dropped: u64,
}

/// Reads the program's counters; `Send`, so the metrics thread can own one.
#[derive(Debug)]
pub struct CounterReader {
    stats: MapHandle,
}

impl CounterReader {
    pub fn read(&self) -> io::Result<XdpCounters> {
        let mut out = [0u64; 3];
        for (key, slot) in out.iter_mut().enumerate() {
            let per_cpu = self
                .stats
                .lookup_percpu(&(key as u32).to_ne_bytes(), MapFlags::ANY)
                .map_err(bpf_error)?
                .unwrap_or_default();
            *slot = per_cpu
                .iter()
                .filter_map(|v| v.get(..8).and_then(|b| b.try_into().ok()))
                .map(u64::from_ne_bytes)
                .sum();
        }
        Ok(XdpCounters {
            redirected: out[0],
            passed: out[1],
            dropped: out[2],
        })
    }
}

/// The loaded program, attached or not yet.
pub struct XdpProgram {
    object: Object,
    xsks: MapHandle,
    stats: MapHandle,
    attached: Option<(i32, u32)>,
}

impl XdpProgram {
    /// Loads the program into the kernel and points it at `addr`.
    pub fn load(addr: Ipv4Addr) -> io::Result<XdpProgram> {
        let object = ObjectBuilder::default()
            .open_memory(PROGRAM_OBJECT)
            .and_then(|open| open.load())
            .map_err(|e| {
                let e = bpf_error(e);
                if e.kind() == io::ErrorKind::PermissionDenied {
                    io::Error::new(
                        e.kind(),
                        format!(
                            "loading the XDP program was refused ({e}): run as root, or give \
                             the binary CAP_BPF, CAP_NET_ADMIN, CAP_NET_RAW and CAP_PERFMON with \
                             an unlimited memlock limit (ferrite-ops/systemd/ferrite.service)"
                        ),
                    )
                } else {
                    io::Error::new(e.kind(), format!("loading the XDP program failed: {e}"))
                }
            })?;
        let map = |name: &str| -> io::Result<MapHandle> {
            let found = object
                .maps()
                .find(|m| m.name() == name)
                .ok_or_else(|| io::Error::other(format!("the XDP program has no map {name}")))?;
            MapHandle::try_from(&found).map_err(bpf_error)
        };
        let config = map("ferrite_config")?;
        config
            .update(&0u32.to_ne_bytes(), &addr.octets(), MapFlags::ANY)
            .map_err(bpf_error)?;
        Ok(XdpProgram {
            xsks: map("ferrite_xsks")?,
            stats: map("ferrite_stats")?,
            object,
            attached: None,
        })
    }

    /// Sends the frames that arrive on `queue` to the AF_XDP socket `fd`.
    pub fn register_socket(&self, queue: u32, fd: RawFd) -> io::Result<()> {
        self.xsks
            .update(&queue.to_ne_bytes(), &fd.to_ne_bytes(), MapFlags::ANY)
            .map_err(|e| io::Error::other(format!("XSKMAP[{queue}] = socket: {}", bpf_error(e))))
    }

    pub fn counter_reader(&self) -> io::Result<CounterReader> {
        Ok(CounterReader {
            stats: MapHandle::try_from(&self.stats).map_err(bpf_error)?,
        })
    }

    /// Attaches to the interface, replacing a program of ours a crashed run left there. Returns
    /// the mode it attached in.
    pub fn attach(&mut self, ifindex: u32, mode: AttachMode) -> io::Result<AttachMode> {
        let ifindex = ifindex as i32;
        let program = self
            .object
            .progs()
            .find(|p| p.name() == PROGRAM_NAME)
            .ok_or_else(|| io::Error::other("the XDP program is missing its entry point"))?;
        let xdp = Xdp::new(program.as_fd());
        for flags in [XdpFlags::DRV_MODE.bits(), XdpFlags::SKB_MODE.bits()] {
            let existing = xdp
                .query_id(ifindex, XdpFlags::from_bits_truncate(flags))
                .unwrap_or(0);
            if existing == 0 {
                continue;
            }
            match program_name(existing) {
                Some(name) if name == PROGRAM_NAME => {
                    tracing::warn!(
                        id = existing,
                        "replacing an XDP program a previous run left attached"
                    );
                    xdp.detach(ifindex, XdpFlags::from_bits_truncate(flags))
                        .map_err(bpf_error)?;
                }
                other => {
                    return Err(io::Error::new(
                        io::ErrorKind::AddrInUse,
                        format!(
                            "the interface already runs XDP program {} (id {existing}); detach \
                             it first (ip link set dev IFACE xdp off) or pick another interface",
                            other.unwrap_or_else(|| "?".into())
                        ),
                    ))
                }
            }
        }
        let attempts: &[(u32, AttachMode)] = match mode {
            AttachMode::Native => &[(XdpFlags::DRV_MODE.bits(), AttachMode::Native)],
            AttachMode::Generic => &[(XdpFlags::SKB_MODE.bits(), AttachMode::Generic)],
            AttachMode::Auto => &[
                (XdpFlags::DRV_MODE.bits(), AttachMode::Native),
                (XdpFlags::SKB_MODE.bits(), AttachMode::Generic),
            ],
        };
        let mut last = None;
        for &(flags, used) in attempts {
            match xdp.attach(ifindex, XdpFlags::from_bits_truncate(flags)) {
                Ok(()) => {
                    self.attached = Some((ifindex, flags));
                    return Ok(used);
                }
                Err(e) => last = Some(bpf_error(e)),
            }
        }
        let e = last.unwrap_or_else(|| io::Error::other("no attach mode to try"));
        Err(io::Error::new(
            e.kind(),
            format!(
                "attaching the XDP program failed ({e}); if the driver lacks native XDP, set \
                 [dataplane] xdp_mode = \"generic\""
            ),
        ))
    }

    fn detach(&mut self) {
        let Some((ifindex, flags)) = self.attached.take() else {
            return;
        };
        let Some(program) = self.object.progs().find(|p| p.name() == PROGRAM_NAME) else {
            return;
        };
        if let Err(e) =
            Xdp::new(program.as_fd()).detach(ifindex, XdpFlags::from_bits_truncate(flags))
        {
            tracing::warn!(error = %e, "detaching the XDP program failed");
        }
    }

    /// The loaded program's fd, for diagnostics.
    pub fn raw_fd(&self) -> Option<RawFd> {
        self.object
            .progs()
            .find(|p| p.name() == PROGRAM_NAME)
            .map(|p| p.as_fd().as_raw_fd())
    }
}

impl Drop for XdpProgram {
    fn drop(&mut self) {
        self.detach();
    }
}

fn program_name(id: u32) -> Option<String> {
    ProgInfoIter::default()
        .find(|info| info.id == id)
        .map(|info| info.name.to_string_lossy().into_owned())
}

fn bpf_error(e: libbpf_rs::Error) -> io::Error {
    use libbpf_rs::ErrorKind as K;
    let kind = match e.kind() {
        K::PermissionDenied => io::ErrorKind::PermissionDenied,
        K::NotFound => io::ErrorKind::NotFound,
        K::AlreadyExists => io::ErrorKind::AlreadyExists,
        K::Unsupported => io::ErrorKind::Unsupported,
        K::InvalidInput => io::ErrorKind::InvalidInput,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e.to_string())
}
