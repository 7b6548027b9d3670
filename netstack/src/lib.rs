//! Ferrite's userspace network stack: the AF_XDP port (UMEM, fill/completion/rx/tx rings,
//! wake-ups), the XDP program's loader, the userspace TCP endpoint and ARP/ICMP. It knows nothing
//! about Redis: a shard hands it frames and the time, and gets back byte streams per connection.
//!
//! Layers, bottom up:
//! - [`phy`]: the [`phy::Transmit`] trait through which the protocol core emits frames in place.
//! - [`xsk`]: the AF_XDP port (UMEM and rings) bound to one NIC queue, and [`xdp`]: the loader of
//!   the XDP program that steers the dataplane's frames to those ports.
//! - [`iface`]: the protocol core, with no I/O and time passed in: Ethernet, ARP, IPv4, ICMP echo
//!   and the [`tcp`] endpoint serving one listening port.

pub mod iface;
pub mod phy;
pub mod tcp;
pub mod xdp;
pub mod xsk;
