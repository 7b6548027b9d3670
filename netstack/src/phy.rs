//! The boundary between the protocol core and a device. The core builds each frame in place in a
//! buffer the device lends it (smoltcp's `TxToken::consume`), which maps straight onto an AF_XDP tx
//! descriptor: no intermediate copy.

/// Where the protocol core writes the frames it sends.
pub trait Transmit {
    /// Builds one frame of exactly `len` bytes in place with `emit`. Returns false, without
    /// calling `emit`, when the device has no free buffer: the core treats that frame as lost on
    /// the wire (TCP retransmits; an ARP or ICMP reply is simply not sent).
    fn transmit<F: FnOnce(&mut [u8])>(&mut self, len: usize, emit: F) -> bool;
}
