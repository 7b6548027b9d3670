//! Byte-level fixtures for the link and network layers: ARP, ICMP echo, and every way a frame
//! is dropped before TCP sees it.

mod common;

use common::*;
use netstack::iface::{Config, Interface, Stats};
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
    Icmpv4Message, Icmpv4Packet, IpProtocol, Ipv4Packet,
};

fn arp_request(target: std::net::Ipv4Addr) -> Vec<u8> {
    let repr = ArpRepr::EthernetIpv4 {
        operation: ArpOperation::Request,
        source_hardware_addr: EthernetAddress(PEER_MAC),
        source_protocol_addr: PEER_IP,
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: target,
    };
    let mut frame = vec![0u8; 14 + repr.buffer_len()];
    let mut eth = EthernetFrame::new_unchecked(&mut frame[..]);
    eth.set_dst_addr(EthernetAddress::BROADCAST);
    eth.set_src_addr(EthernetAddress(PEER_MAC));
    eth.set_ethertype(EthernetProtocol::Arp);
    repr.emit(&mut ArpPacket::new_unchecked(eth.payload_mut()));
    frame
}

fn echo_request(data: &[u8]) -> Vec<u8> {
    let len = 8 + data.len();
    let mut frame = vec![0u8; 34 + len];
    write_ip_headers(
        &mut frame,
        PEER_MAC,
        OUR_MAC,
        PEER_IP,
        OUR_IP,
        IpProtocol::Icmp,
        len,
    );
    let mut icmp = Icmpv4Packet::new_unchecked(&mut frame[34..]);
    icmp.set_msg_type(Icmpv4Message::EchoRequest);
    icmp.set_msg_code(0);
    icmp.set_echo_ident(0x1234);
    icmp.set_echo_seq_no(7);
    icmp.data_mut().copy_from_slice(data);
    icmp.fill_checksum();
    frame
}

fn syn() -> Vec<u8> {
    tcp_frame(
        PEER_MAC,
        PEER_IP,
        OUR_IP,
        &Seg {
            seq: 1,
            syn: true,
            ..Seg::from_peer()
        },
    )
}

/// Feeds one frame to a fresh interface; returns the frames sent and the counters.
fn feed(frame: &[u8]) -> (Vec<Vec<u8>>, Stats) {
    let mut h = Harness::new(config());
    h.receive(frame);
    (h.wire.frames, h.iface.stats().clone())
}

#[test]
fn arp_request_for_our_address_is_answered_to_the_requester() {
    let (out, stats) = feed(&arp_request(OUR_IP));
    assert_eq!(out.len(), 1);
    let eth = EthernetFrame::new_checked(&out[0][..]).unwrap();
    assert_eq!(eth.dst_addr(), EthernetAddress(PEER_MAC));
    assert_eq!(eth.src_addr(), EthernetAddress(OUR_MAC));
    let reply = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap()).unwrap();
    assert_eq!(
        reply,
        ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Reply,
            source_hardware_addr: EthernetAddress(OUR_MAC),
            source_protocol_addr: OUR_IP,
            target_hardware_addr: EthernetAddress(PEER_MAC),
            target_protocol_addr: PEER_IP,
        }
    );
    assert_eq!(stats.arp_replies, 1);

    let (out, stats) = feed(&arp_request(std::net::Ipv4Addr::new(10, 0, 0, 9)));
    assert!(out.is_empty());
    assert_eq!(stats.rx_dropped_not_for_us, 1);
}

#[test]
fn icmp_echo_request_gets_a_reply_with_the_same_data() {
    let (out, stats) = feed(&echo_request(b"abcdefgh-ping"));
    assert_eq!(out.len(), 1);
    let eth = EthernetFrame::new_checked(&out[0][..]).unwrap();
    assert_eq!(eth.dst_addr(), EthernetAddress(PEER_MAC));
    let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
    assert!(ip.verify_checksum());
    assert_eq!((ip.src_addr(), ip.dst_addr()), (OUR_IP, PEER_IP));
    assert!(ip.dont_frag());
    assert_eq!(ip.hop_limit(), 64);
    let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
    assert!(icmp.verify_checksum());
    assert_eq!(icmp.msg_type(), Icmpv4Message::EchoReply);
    assert_eq!((icmp.echo_ident(), icmp.echo_seq_no()), (0x1234, 7));
    assert_eq!(icmp.data(), b"abcdefgh-ping");
    assert_eq!(stats.icmp_echo_replies, 1);
}

#[test]
fn bad_checksums_are_dropped_and_counted() {
    // IPv4 header checksum.
    let mut frame = syn();
    frame[14 + 10] ^= 0xff;
    let (out, stats) = feed(&frame);
    assert!(out.is_empty());
    assert_eq!(stats.rx_dropped_checksum, 1);
    // TCP checksum.
    let mut frame = syn();
    frame[34 + 16] ^= 0x01;
    let (out, stats) = feed(&frame);
    assert!(out.is_empty());
    assert_eq!(stats.rx_dropped_checksum, 1);
    // ICMP checksum.
    let mut frame = echo_request(b"x");
    frame[34 + 2] ^= 0x01;
    let (out, stats) = feed(&frame);
    assert!(out.is_empty());
    assert_eq!(stats.rx_dropped_checksum, 1);
    // Not verified when disabled (e.g. a NIC that checked already).
    let mut h = Harness::new(Config {
        verify_checksums: false,
        ..config()
    });
    let mut frame = syn();
    frame[34 + 16] ^= 0x01;
    h.receive(&frame);
    assert_eq!(h.sent().len(), 1);
}

#[test]
fn ip_fragments_are_dropped() {
    for (more_frags, offset) in [(true, 0), (false, 185)] {
        let mut frame = syn();
        let mut ip = Ipv4Packet::new_unchecked(&mut frame[14..]);
        ip.set_more_frags(more_frags);
        ip.set_frag_offset(offset * 8);
        ip.fill_checksum();
        let (out, stats) = feed(&frame);
        assert!(out.is_empty());
        assert_eq!(stats.rx_dropped_fragment, 1);
    }
}

#[test]
fn malformed_and_foreign_frames_are_dropped() {
    let good = syn();
    // Truncated at every length: never answered, never panics.
    for len in 0..good.len() {
        let (out, stats) = feed(&good[..len]);
        assert!(out.is_empty(), "answered a {len}-byte prefix");
        assert_eq!(stats.rx_frames, 1);
    }
    // IP total length beyond the frame.
    let mut frame = good.clone();
    Ipv4Packet::new_unchecked(&mut frame[14..]).set_total_len(200);
    Ipv4Packet::new_unchecked(&mut frame[14..]).fill_checksum();
    assert_eq!(feed(&frame).1.rx_dropped_malformed, 1);
    // Unknown ethertype (IPv6).
    let mut frame = good.clone();
    frame[12..14].copy_from_slice(&[0x86, 0xdd]);
    assert_eq!(feed(&frame).1.rx_dropped_unknown_ethertype, 1);
    // Another host's MAC, another IP address.
    let mut frame = good.clone();
    frame[0] = 0x04;
    assert_eq!(feed(&frame).1.rx_dropped_not_for_us, 1);
    let other = tcp_frame(
        PEER_MAC,
        PEER_IP,
        std::net::Ipv4Addr::new(10, 0, 0, 77),
        &Seg {
            syn: true,
            ..Seg::from_peer()
        },
    );
    assert_eq!(feed(&other).1.rx_dropped_not_for_us, 1);
    // UDP is not served.
    let mut frame = good.clone();
    let mut ip = Ipv4Packet::new_unchecked(&mut frame[14..]);
    ip.set_next_header(IpProtocol::Udp);
    ip.fill_checksum();
    assert_eq!(feed(&frame).1.rx_dropped_unsupported, 1);
}

#[test]
fn ethernet_padding_and_ip_options_are_tolerated() {
    // A SYN carrying 4 bytes of IP options (NOPs), then 10 bytes of Ethernet padding.
    let good = syn();
    let mut frame = good[..34].to_vec();
    frame.extend_from_slice(&[1, 1, 1, 1]);
    frame.extend_from_slice(&good[34..]);
    frame.extend_from_slice(&[0u8; 10]);
    let mut ip = Ipv4Packet::new_unchecked(&mut frame[14..]);
    ip.set_header_len(24);
    ip.set_total_len((good.len() - 14 + 4) as u16);
    ip.fill_checksum();
    let mut iface = Interface::new(config());
    let mut wire = Wire::default();
    iface.receive(std::time::Instant::now(), &frame, &mut wire);
    assert_eq!(wire.frames.len(), 1);
    assert!(parse_tcp(&wire.frames[0]).seg.syn);
}
