//! The link and network layers: checks on received Ethernet and IPv4 headers, ARP and ICMP echo
//! answers, and [`Egress`], through which every frame leaves (headers written in place, checksums
//! computed in software).
//!
//! Every received byte is untrusted: headers are viewed through smoltcp's checked wire types
//! (`new_checked` before any getter) and a frame that fails a check is dropped and counted,
//! never answered. We answer whoever asked at the MAC address the request came from, so the
//! stack keeps no ARP cache (TCP connections likewise remember their peer's MAC at SYN time).

use std::net::Ipv4Addr;

use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
    Icmpv4Message, Icmpv4Packet, IpProtocol, Ipv4Packet, ETHERNET_HEADER_LEN, IPV4_HEADER_LEN,
};

use super::Stats;
use crate::phy::Transmit;

/// Ethernet plus IPv4 header (without options) of every IPv4 frame this stack sends.
pub(crate) const IPV4_FRAME_HEADER_LEN: usize = ETHERNET_HEADER_LEN + IPV4_HEADER_LEN;
/// TTL of every sent datagram.
const TTL: u8 = 64;

/// Where frames go: the device, the local addresses, the IPv4 identification counter and the
/// counters. Borrowed from the interface for the duration of one `receive` or `poll`.
pub(crate) struct Egress<'a, T> {
    pub(crate) tx: &'a mut T,
    pub(crate) mac: [u8; 6],
    pub(crate) addr: Ipv4Addr,
    pub(crate) ip_ident: &'a mut u16,
    pub(crate) stats: &'a mut Stats,
}

impl<T: Transmit> Egress<'_, T> {
    /// Sends one IPv4 datagram of `payload_len` payload bytes to `dst` at `dst_mac`: Ethernet
    /// and IPv4 headers (DF, TTL 64, next identification, header checksum) are written here,
    /// the payload and its checksum by `fill`. Returns false if the device had no buffer.
    pub(crate) fn send_ipv4(
        &mut self,
        dst_mac: [u8; 6],
        dst: Ipv4Addr,
        protocol: IpProtocol,
        payload_len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> bool {
        let ident = *self.ip_ident;
        let (src_mac, src) = (self.mac, self.addr);
        let sent = self
            .tx
            .transmit(IPV4_FRAME_HEADER_LEN + payload_len, |buf| {
                let (headers, payload) = buf.split_at_mut(IPV4_FRAME_HEADER_LEN);
                let mut eth = EthernetFrame::new_unchecked(&mut headers[..]);
                eth.set_dst_addr(EthernetAddress(dst_mac));
                eth.set_src_addr(EthernetAddress(src_mac));
                eth.set_ethertype(EthernetProtocol::Ipv4);
                let mut ip = Ipv4Packet::new_unchecked(&mut headers[ETHERNET_HEADER_LEN..]);
                ip.set_version(4);
                ip.set_header_len(IPV4_HEADER_LEN as u8);
                ip.set_dscp(0);
                ip.set_ecn(0);
                ip.set_total_len((IPV4_HEADER_LEN + payload_len) as u16);
                ip.set_ident(ident);
                ip.clear_flags();
                ip.set_dont_frag(true);
                ip.set_frag_offset(0);
                ip.set_hop_limit(TTL);
                ip.set_next_header(protocol);
                ip.set_src_addr(src);
                ip.set_dst_addr(dst);
                ip.fill_checksum();
                fill(payload);
            });
        if sent {
            *self.ip_ident = ident.wrapping_add(1);
        } else {
            self.stats.tx_full += 1;
        }
        sent
    }
}

/// A received IPv4 datagram addressed to us that passed every header check.
pub(crate) struct Datagram<'a> {
    pub(crate) src_mac: [u8; 6],
    pub(crate) src: Ipv4Addr,
    pub(crate) protocol: IpProtocol,
    /// The IP payload, trimmed to the header's total length (Ethernet padding removed).
    pub(crate) payload: &'a [u8],
}

/// Checks an IPv4 packet (the Ethernet payload): lengths, version, header checksum, fragments,
/// destination and source. Returns `None` after counting the reason when it is dropped.
pub(crate) fn check_ipv4<'a>(
    src_mac: [u8; 6],
    packet: &'a [u8],
    addr: Ipv4Addr,
    verify_checksums: bool,
    stats: &mut Stats,
) -> Option<Datagram<'a>> {
    // new_checked: buffer >= header length >= 20, total length >= header length and
    // total length <= buffer length.
    let Ok(ip) = Ipv4Packet::new_checked(packet) else {
        stats.rx_dropped_malformed += 1;
        return None;
    };
    if ip.version() != 4 {
        stats.rx_dropped_malformed += 1;
        return None;
    }
    if verify_checksums && !ip.verify_checksum() {
        stats.rx_dropped_checksum += 1;
        return None;
    }
    if ip.more_frags() || ip.frag_offset() != 0 {
        stats.rx_dropped_fragment += 1;
        return None;
    }
    if ip.dst_addr() != addr {
        stats.rx_dropped_not_for_us += 1;
        return None;
    }
    let src = ip.src_addr();
    if src.is_broadcast() || src.is_multicast() || src.is_unspecified() {
        stats.rx_dropped_malformed += 1;
        return None;
    }
    Some(Datagram {
        src_mac,
        src,
        protocol: ip.next_header(),
        payload: ip.payload(),
    })
}

/// Answers an ARP request for `addr` (RFC 826) to the requester's hardware address.
pub(crate) fn answer_arp<T: Transmit>(packet: &[u8], out: &mut Egress<'_, T>) {
    let Ok(arp) = ArpPacket::new_checked(packet) else {
        out.stats.rx_dropped_malformed += 1;
        return;
    };
    let Ok(ArpRepr::EthernetIpv4 {
        operation,
        source_hardware_addr,
        source_protocol_addr,
        target_protocol_addr,
        ..
    }) = ArpRepr::parse(&arp)
    else {
        out.stats.rx_dropped_malformed += 1;
        return;
    };
    if operation != ArpOperation::Request {
        out.stats.rx_dropped_unsupported += 1;
        return;
    }
    if target_protocol_addr != out.addr {
        out.stats.rx_dropped_not_for_us += 1;
        return;
    }
    if !source_hardware_addr.is_unicast() {
        out.stats.rx_dropped_malformed += 1;
        return;
    }
    let reply = ArpRepr::EthernetIpv4 {
        operation: ArpOperation::Reply,
        source_hardware_addr: EthernetAddress(out.mac),
        source_protocol_addr: out.addr,
        target_hardware_addr: source_hardware_addr,
        target_protocol_addr: source_protocol_addr,
    };
    let mac = out.mac;
    let sent = out
        .tx
        .transmit(ETHERNET_HEADER_LEN + reply.buffer_len(), |buf| {
            let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
            eth.set_dst_addr(source_hardware_addr);
            eth.set_src_addr(EthernetAddress(mac));
            eth.set_ethertype(EthernetProtocol::Arp);
            reply.emit(&mut ArpPacket::new_unchecked(eth.payload_mut()));
        });
    if sent {
        out.stats.arp_replies += 1;
    } else {
        out.stats.tx_full += 1;
    }
}

/// Answers an ICMP echo request (RFC 792) with an echo reply carrying the same identifier,
/// sequence number and data. Other ICMP messages are dropped.
pub(crate) fn answer_icmp<T: Transmit>(
    datagram: &Datagram<'_>,
    verify_checksums: bool,
    out: &mut Egress<'_, T>,
) {
    let Ok(icmp) = Icmpv4Packet::new_checked(datagram.payload) else {
        out.stats.rx_dropped_malformed += 1;
        return;
    };
    if verify_checksums && !icmp.verify_checksum() {
        out.stats.rx_dropped_checksum += 1;
        return;
    }
    if icmp.msg_type() != Icmpv4Message::EchoRequest || icmp.msg_code() != 0 {
        out.stats.rx_dropped_unsupported += 1;
        return;
    }
    let request = datagram.payload;
    let sent = out.send_ipv4(
        datagram.src_mac,
        datagram.src,
        IpProtocol::Icmp,
        request.len(),
        |buf| {
            buf.copy_from_slice(request);
            let mut reply = Icmpv4Packet::new_unchecked(buf);
            reply.set_msg_type(Icmpv4Message::EchoReply);
            reply.fill_checksum();
        },
    );
    if sent {
        out.stats.icmp_echo_replies += 1;
    }
}
