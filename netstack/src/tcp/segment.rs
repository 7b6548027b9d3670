//! TCP segments on the wire: [`Segment`], the checked view of a received one, and
//! [`OutSegment`], what the endpoint asks [`send`] to put on the wire.
//!
//! Only the options this endpoint negotiates are read (MSS and window scale, RFC 7323 §2.2, and
//! only on SYNs); SACK-permitted, timestamps and unknown options are skipped, and a malformed
//! option list ends option parsing without rejecting the segment.

use std::net::{Ipv4Addr, SocketAddrV4};

use smoltcp::wire::{IpAddress, IpProtocol, TcpPacket, TcpSeqNumber};

use super::seq::Seq;
use crate::iface::link::Egress;
use crate::iface::Stats;
use crate::phy::Transmit;

/// TCP header length without options.
const HEADER_LEN: usize = 20;
const OPT_END: u8 = 0;
const OPT_NOP: u8 = 1;
const OPT_MSS: u8 = 2;
const OPT_WSCALE: u8 = 3;
/// The largest window shift (RFC 7323 §2.3).
pub(crate) const MAX_WSCALE: u8 = 14;

/// A received segment whose header and checksum were checked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment<'a> {
    pub(crate) src_port: u16,
    pub(crate) dst_port: u16,
    pub(crate) seq: Seq,
    pub(crate) ack: Option<Seq>,
    pub(crate) syn: bool,
    pub(crate) fin: bool,
    pub(crate) rst: bool,
    /// The window field as sent (unscaled).
    pub(crate) window: u16,
    pub(crate) mss: Option<u16>,
    pub(crate) wscale: Option<u8>,
    pub(crate) payload: &'a [u8],
}

impl<'a> Segment<'a> {
    /// Checks and views a TCP segment (the IP payload) from `src` to `dst`. `None` (counted)
    /// when the data offset is inconsistent with the length or the checksum fails.
    pub(crate) fn parse(
        bytes: &'a [u8],
        src: Ipv4Addr,
        dst: Ipv4Addr,
        verify_checksum: bool,
        stats: &mut Stats,
    ) -> Option<Segment<'a>> {
        let Ok(tcp) = TcpPacket::new_checked(bytes) else {
            stats.rx_dropped_malformed += 1;
            return None;
        };
        if verify_checksum && !tcp.verify_checksum(&IpAddress::Ipv4(src), &IpAddress::Ipv4(dst)) {
            stats.rx_dropped_checksum += 1;
            return None;
        }
        let (mss, wscale) = if tcp.syn() {
            parse_options(tcp.options())
        } else {
            (None, None)
        };
        Some(Segment {
            src_port: tcp.src_port(),
            dst_port: tcp.dst_port(),
            seq: Seq(tcp.seq_number().0 as u32),
            ack: tcp.ack().then(|| Seq(tcp.ack_number().0 as u32)),
            syn: tcp.syn(),
            fin: tcp.fin(),
            rst: tcp.rst(),
            window: tcp.window_len(),
            mss,
            wscale,
            payload: tcp.payload(),
        })
    }

    /// Length in sequence space: payload plus one each for SYN and FIN.
    pub(crate) fn seq_len(&self) -> usize {
        self.payload.len() + usize::from(self.syn) + usize::from(self.fin)
    }

    /// The RST answering this segment when it reaches no connection (RFC 793 §3.4, "Reset
    /// Generation"); `None` for a RST, which is never answered.
    pub(crate) fn reset_reply(&self) -> Option<OutSegment<'static>> {
        if self.rst {
            return None;
        }
        Some(match self.ack {
            Some(ack) => OutSegment::control(ack, None, Flags::RST),
            None => OutSegment::control(Seq(0), Some(self.seq.add(self.seq_len())), Flags::RST),
        })
    }
}

/// MSS and window scale from an option list; parsing stops at the first malformed option.
fn parse_options(mut options: &[u8]) -> (Option<u16>, Option<u8>) {
    let (mut mss, mut wscale) = (None, None);
    while let Some((&kind, rest)) = options.split_first() {
        match kind {
            OPT_END => break,
            OPT_NOP => options = rest,
            _ => {
                let Some(&len) = rest.first() else { break };
                let Some((option, next)) = options.split_at_checked(usize::from(len)) else {
                    break;
                };
                match (kind, option) {
                    (OPT_MSS, &[_, 4, hi, lo]) => mss = Some(u16::from_be_bytes([hi, lo])),
                    (OPT_WSCALE, &[_, 3, shift]) => wscale = Some(shift.min(MAX_WSCALE)),
                    _ if len < 2 => break,
                    _ => {}
                }
                options = next;
            }
        }
    }
    (mss, wscale)
}

/// TCP control bits this endpoint sends (ACK is implied by `OutSegment::ack`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Flags {
    pub(crate) syn: bool,
    pub(crate) fin: bool,
    pub(crate) rst: bool,
    pub(crate) psh: bool,
}

impl Flags {
    pub(crate) const NONE: Flags = Flags {
        syn: false,
        fin: false,
        rst: false,
        psh: false,
    };
    pub(crate) const RST: Flags = Flags {
        rst: true,
        ..Flags::NONE
    };
}

/// A segment to send; the payload is given as two slices (a ring buffer's two halves).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutSegment<'a> {
    pub(crate) seq: Seq,
    pub(crate) ack: Option<Seq>,
    pub(crate) flags: Flags,
    /// The window field (already scaled down).
    pub(crate) window: u16,
    pub(crate) mss: Option<u16>,
    pub(crate) wscale: Option<u8>,
    pub(crate) payload: (&'a [u8], &'a [u8]),
}

impl OutSegment<'_> {
    /// A segment with no payload and no options.
    pub(crate) fn control(seq: Seq, ack: Option<Seq>, flags: Flags) -> OutSegment<'static> {
        OutSegment {
            seq,
            ack,
            flags,
            window: 0,
            mss: None,
            wscale: None,
            payload: (&[], &[]),
        }
    }

    pub(crate) fn payload_len(&self) -> usize {
        self.payload.0.len() + self.payload.1.len()
    }

    fn options_len(&self) -> usize {
        // MSS is 4 bytes; window scale is 3, padded with a NOP to keep 4-byte alignment.
        4 * usize::from(self.mss.is_some()) + 4 * usize::from(self.wscale.is_some())
    }
}

/// Writes `seg` from our `src_port` to `dst` at `dst_mac` into a frame of the device, with
/// the TCP checksum computed in software. Returns false (counted) if the device had no buffer.
pub(crate) fn send<T: Transmit>(
    out: &mut Egress<'_, T>,
    dst_mac: [u8; 6],
    dst: SocketAddrV4,
    src_port: u16,
    seg: &OutSegment<'_>,
) -> bool {
    let header_len = HEADER_LEN + seg.options_len();
    let src = out.addr;
    let sent = out.send_ipv4(
        dst_mac,
        *dst.ip(),
        IpProtocol::Tcp,
        header_len + seg.payload_len(),
        |buf| {
            let (a, b) = seg.payload;
            buf[header_len..header_len + a.len()].copy_from_slice(a);
            buf[header_len + a.len()..].copy_from_slice(b);
            let mut tcp = TcpPacket::new_unchecked(buf);
            tcp.set_src_port(src_port);
            tcp.set_dst_port(dst.port());
            tcp.set_seq_number(TcpSeqNumber(seg.seq.0 as i32));
            tcp.set_ack_number(TcpSeqNumber(seg.ack.unwrap_or_default().0 as i32));
            tcp.set_header_len(header_len as u8);
            tcp.clear_flags();
            tcp.set_syn(seg.flags.syn);
            tcp.set_fin(seg.flags.fin);
            tcp.set_rst(seg.flags.rst);
            tcp.set_psh(seg.flags.psh);
            tcp.set_ack(seg.ack.is_some());
            tcp.set_window_len(seg.window);
            tcp.set_urgent_at(0);
            let options = tcp.options_mut();
            let mut at = 0;
            if let Some(mss) = seg.mss {
                let [hi, lo] = mss.to_be_bytes();
                options[at..at + 4].copy_from_slice(&[OPT_MSS, 4, hi, lo]);
                at += 4;
            }
            if let Some(shift) = seg.wscale {
                options[at..at + 4].copy_from_slice(&[OPT_NOP, OPT_WSCALE, 3, shift]);
            }
            tcp.fill_checksum(&IpAddress::Ipv4(src), &IpAddress::Ipv4(*dst.ip()));
        },
    );
    if sent {
        out.stats.tcp_segments_out += 1;
        if seg.flags.rst {
            out.stats.tcp_resets_sent += 1;
        }
    }
    sent
}

#[cfg(test)]
mod tests {
    use super::parse_options;

    #[test]
    fn options_tolerate_garbage() {
        assert_eq!(
            parse_options(&[1, 2, 4, 5, 0xb4, 1, 3, 3, 7]),
            (Some(1460), Some(7))
        );
        assert_eq!(parse_options(&[3, 3, 99]), (None, Some(14)));
        // SACK-permitted and timestamps are skipped.
        assert_eq!(
            parse_options(&[4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 2, 4, 2, 0]),
            (Some(512), None)
        );
        // Zero or oversized lengths stop parsing; wrong-length MSS is ignored.
        assert_eq!(parse_options(&[2, 0, 2, 4, 5, 0xb4]), (None, None));
        assert_eq!(parse_options(&[2, 40, 1]), (None, None));
        assert_eq!(parse_options(&[2, 3, 5, 3, 3, 2]), (None, Some(2)));
        assert_eq!(parse_options(&[2]), (None, None));
    }
}
