//! Counters of everything the protocol core did or refused to do. Plain `u64`s, only ever
//! incremented; the shard reads them for its metrics.

/// Counters since the interface was created.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Frames handed to `receive`.
    pub rx_frames: u64,
    /// Dropped: truncated or inconsistent headers (Ethernet, ARP, IPv4 lengths, TCP data
    /// offset, ICMP), IP version not 4, or a broadcast/multicast/unspecified source address.
    pub rx_dropped_malformed: u64,
    /// Dropped: IPv4 header, TCP or ICMP checksum did not verify.
    pub rx_dropped_checksum: u64,
    /// Dropped: an IPv4 fragment (no reassembly).
    pub rx_dropped_fragment: u64,
    /// Dropped: Ethernet destination not our MAC (nor broadcast for ARP), IPv4 destination not
    /// our address, or an ARP request for another address.
    pub rx_dropped_not_for_us: u64,
    /// Dropped: an ethertype other than IPv4 and ARP.
    pub rx_dropped_unknown_ethertype: u64,
    /// Dropped: an IP protocol other than TCP and ICMP, an ICMP message other than echo
    /// request, or an ARP operation other than request.
    pub rx_dropped_unsupported: u64,
    /// ARP replies sent.
    pub arp_replies: u64,
    /// ICMP echo replies sent.
    pub icmp_echo_replies: u64,
    /// Frames not sent because the device had no free buffer (`Transmit::transmit` false).
    pub tx_full: u64,

    /// TCP segments received that passed the checks above.
    pub tcp_segments_in: u64,
    /// TCP segments sent (RSTs included).
    pub tcp_segments_out: u64,
    /// Segments retransmitted because the retransmission timer expired (SYN-ACKs included).
    pub tcp_retransmits_timeout: u64,
    /// Segments retransmitted on three duplicate ACKs or a NewReno partial ACK.
    pub tcp_retransmits_fast: u64,
    /// Zero-window probes sent.
    pub tcp_window_probes: u64,
    /// Segments that arrived out of order (answered with an immediate duplicate ACK).
    pub tcp_out_of_order: u64,
    /// Challenge ACKs sent (RFC 5961 §3.2 and §4.2).
    pub tcp_challenge_acks: u64,
    /// RSTs sent: to other ports, unknown connections, refused connections, aborts, give-ups.
    pub tcp_resets_sent: u64,
    /// RSTs received that reset a connection.
    pub tcp_resets_received: u64,
    /// SYNs dropped because the listen backlog (half-open connections) was full.
    pub tcp_syn_dropped_backlog: u64,
    /// SYNs refused with a RST because `max_connections` slots were in use.
    pub tcp_connections_refused: u64,
    /// Connections that completed the handshake.
    pub tcp_accepted: u64,
    /// Accepted connections whose slot was freed, for any reason.
    pub tcp_closed: u64,
    /// Connections given up after the retransmission (or window probe) limit.
    pub tcp_timeouts: u64,
}
