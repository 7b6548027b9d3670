//! Scripted conversations: handshake options, data both ways, and every order of closing.

mod common;

use std::time::Duration;

use common::*;
use netstack::iface::{Config, Event};

#[test]
fn syn_ack_carries_mss_and_window_scale_only_if_offered() {
    let mut h = Harness::new(config());
    h.send(&Seg {
        seq: 100,
        syn: true,
        mss: Some(1400),
        wscale: Some(7),
        extra_options: vec![4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0], // SACK-permitted, timestamps
        ..Seg::from_peer()
    });
    let out = h.sent();
    assert_eq!(out.len(), 1);
    let syn_ack = &out[0];
    assert!(syn_ack.syn);
    assert_eq!((syn_ack.src_port, syn_ack.dst_port), (PORT, PEER_PORT));
    assert_eq!(syn_ack.ack, Some(101));
    assert_eq!(syn_ack.mss, Some(1460));
    // 256 KiB needs a shift of 3; the SYN-ACK's own window is unscaled.
    assert_eq!(syn_ack.wscale, Some(3));
    assert_eq!(syn_ack.window, 65_535);
    assert!(h.events().is_empty(), "no Accepted before the final ACK");

    h.send(&Seg {
        src_port: PEER_PORT + 1,
        seq: 7,
        syn: true,
        ..Seg::from_peer()
    });
    let out = h.sent();
    assert_eq!(out[0].wscale, None, "no scaling unless the peer offers it");
    assert_eq!(out[0].mss, Some(1460));
}

#[test]
fn data_both_ways_with_the_ack_piggybacked_on_poll() {
    let mut h = Harness::new(config());
    let (conn, peer_seq, our_seq) = h.handshake();
    h.send(&Seg {
        seq: peer_seq,
        ack: Some(our_seq),
        psh: true,
        payload: b"PING\r\n".to_vec(),
        ..Seg::from_peer()
    });
    assert!(
        h.sent().is_empty(),
        "in-order data is acknowledged on poll, not at once"
    );
    assert_eq!(h.events(), vec![Event::Readable(conn)]);
    assert_eq!(h.read_all(conn), b"PING\r\n");
    assert_eq!(h.iface.send(conn, b"+PONG\r\n").unwrap(), 7);
    let out = h.poll();
    assert_eq!(out.len(), 1, "one segment: data and ACK together: {out:?}");
    assert_eq!(out[0].seq, our_seq);
    assert_eq!(out[0].ack, Some(peer_seq + 6));
    assert_eq!(out[0].payload, b"+PONG\r\n");
    assert!(out[0].psh);
    assert!(h.poll().is_empty());

    // Data the application does not answer gets a pure ACK on the next poll.
    h.send(&Seg {
        seq: peer_seq + 6,
        ack: Some(our_seq + 7),
        payload: b"more".to_vec(),
        ..Seg::from_peer()
    });
    let out = h.poll();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].ack, Some(peer_seq + 10));
    assert!(out[0].payload.is_empty());
    // Coalesced: still one Readable pending until the app reads.
    h.send(&Seg {
        seq: peer_seq + 10,
        ack: Some(our_seq + 7),
        payload: b"!".to_vec(),
        ..Seg::from_peer()
    });
    assert_eq!(h.events(), vec![Event::Readable(conn)]);
    assert_eq!(h.read_all(conn), b"more!");
}

#[test]
fn peer_mss_and_window_scale_are_honoured() {
    let mut h = Harness::new(config());
    h.send(&Seg {
        seq: 0,
        syn: true,
        mss: Some(500),
        wscale: Some(2),
        ..Seg::from_peer()
    });
    let our_seq = h.sent()[0].seq + 1;
    // Window field 300 scaled by 4: 1200 bytes.
    h.send(&Seg {
        seq: 1,
        ack: Some(our_seq),
        window: 300,
        ..Seg::from_peer()
    });
    let conn = match h.events()[..] {
        [Event::Accepted { conn, .. }] => conn,
        ref other => panic!("{other:?}"),
    };
    assert_eq!(h.iface.send(conn, &[7u8; 5000]).unwrap(), 5000);
    let out = h.poll();
    let sizes: Vec<usize> = out.iter().map(|s| s.payload.len()).collect();
    assert_eq!(sizes, vec![500, 500, 200]);
    // Our window is advertised scaled by 3: 256 KiB >> 3.
    assert_eq!(out[0].window, 32_768);
}

#[test]
fn peer_closes_first() {
    let mut h = Harness::new(config());
    let (conn, peer_seq, our_seq) = h.handshake();
    h.send(&Seg {
        seq: peer_seq,
        ack: Some(our_seq),
        fin: true,
        payload: b"bye".to_vec(),
        ..Seg::from_peer()
    });
    assert_eq!(h.events(), vec![Event::Readable(conn)]);
    let mut buf = [0u8; 16];
    assert_eq!(h.iface.recv(conn, &mut buf).unwrap(), 3);
    assert_eq!(
        h.iface.recv(conn, &mut buf).unwrap(),
        0,
        "EOF after the FIN"
    );
    let out = h.poll();
    assert_eq!(out[0].ack, Some(peer_seq + 4)); // CLOSE_WAIT
                                                // The app may still send in CLOSE_WAIT, then closes: data and FIN together (LAST_ACK).
    h.iface.send(conn, b"ok").unwrap();
    h.iface.close(conn);
    let out = h.poll();
    assert_eq!(out.len(), 1);
    assert!(out[0].fin);
    assert_eq!(out[0].payload, b"ok");
    assert_eq!(h.iface.connections(), 1);
    h.send(&Seg {
        seq: peer_seq + 4,
        ack: Some(our_seq + 3),
        ..Seg::from_peer()
    });
    assert_eq!(
        h.iface.connections(),
        0,
        "LAST_ACK ends on the ACK of our FIN"
    );
    assert!(h.events().is_empty(), "no Closed after the app closed");
    assert_eq!(h.iface.stats().tcp_closed, 1);
}

#[test]
fn we_close_first_through_time_wait() {
    let mut h = Harness::new(config());
    let (conn, peer_seq, our_seq) = h.handshake();
    h.iface.send(conn, b"bye").unwrap();
    h.iface.close(conn);
    assert!(h.iface.send(conn, b"x").is_err(), "handle dead after close");
    let out = h.poll();
    assert_eq!(out.len(), 1);
    assert!(out[0].fin);
    assert_eq!(out[0].seq, our_seq);
    // FIN_WAIT_1 -> FIN_WAIT_2
    h.send(&Seg {
        seq: peer_seq,
        ack: Some(our_seq + 4),
        ..Seg::from_peer()
    });
    assert!(h.poll().is_empty());
    // Data after close is acknowledged and discarded; then the peer's FIN -> TIME_WAIT.
    h.send(&Seg {
        seq: peer_seq,
        ack: Some(our_seq + 4),
        fin: true,
        payload: b"late".to_vec(),
        ..Seg::from_peer()
    });
    let out = h.poll();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].ack, Some(peer_seq + 5));
    assert!(h.events().is_empty());
    assert_eq!(h.iface.connections(), 1);
    // poll_at may be early (a cancelled retransmission timer leaves a stale entry), never late.
    let deadline = h.now + Duration::from_secs(1);
    assert!(h.iface.poll_at().is_some_and(|at| at <= deadline));
    // A retransmitted FIN in TIME_WAIT is acknowledged again.
    h.advance(Duration::from_millis(500));
    h.send(&Seg {
        seq: peer_seq + 4,
        ack: Some(our_seq + 4),
        fin: true,
        ..Seg::from_peer()
    });
    assert_eq!(h.sent().len(), 1);
    h.advance(Duration::from_millis(999));
    h.poll();
    assert_eq!(h.iface.connections(), 1);
    h.advance(Duration::from_millis(1));
    h.poll();
    assert_eq!(h.iface.connections(), 0, "TIME_WAIT expired");
}

#[test]
fn simultaneous_close_goes_through_closing() {
    let mut h = Harness::new(config());
    let (conn, peer_seq, our_seq) = h.handshake();
    h.iface.close(conn);
    let out = h.poll();
    assert!(out[0].fin);
    // The peer's FIN crosses ours: it does not acknowledge our FIN.
    h.send(&Seg {
        seq: peer_seq,
        ack: Some(our_seq),
        fin: true,
        ..Seg::from_peer()
    });
    let out = h.poll();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].ack, Some(peer_seq + 1));
    // CLOSING -> TIME_WAIT on the ACK of our FIN.
    h.send(&Seg {
        seq: peer_seq + 1,
        ack: Some(our_seq + 1),
        ..Seg::from_peer()
    });
    assert_eq!(h.iface.connections(), 1);
    h.advance(Duration::from_secs(1));
    h.poll();
    assert_eq!(h.iface.connections(), 0);
}

#[test]
fn fin_is_retransmitted_and_fin_wait_2_times_out() {
    let mut h = Harness::new(Config {
        fin_wait_2_timeout: Duration::from_secs(5),
        ..config()
    });
    let (conn, peer_seq, our_seq) = h.handshake();
    h.iface.close(conn);
    assert!(h.poll()[0].fin);
    h.advance(Duration::from_millis(20));
    let out = h.poll();
    assert_eq!(out.len(), 1, "FIN retransmitted after the RTO");
    assert!(out[0].fin);
    assert_eq!(out[0].seq, our_seq);
    h.send(&Seg {
        seq: peer_seq,
        ack: Some(our_seq + 1),
        ..Seg::from_peer()
    });
    h.advance(Duration::from_secs(5));
    h.poll();
    assert_eq!(h.iface.connections(), 0, "FIN_WAIT_2 gave up");
}

#[test]
fn abort_sends_rst_and_frees_the_slot() {
    let mut h = Harness::new(config());
    let (conn, peer_seq, our_seq) = h.handshake();
    h.iface.abort(conn);
    assert_eq!(h.iface.connections(), 0);
    let out = h.poll();
    assert_eq!(out.len(), 1);
    assert!(out[0].rst);
    assert_eq!(out[0].seq, our_seq);
    assert_eq!(out[0].ack, Some(peer_seq));
    assert!(h.events().is_empty());
    assert!(h.iface.recv(conn, &mut [0u8; 4]).is_err());
}
