//! Scale: a burst of 1,000 simultaneous SYNs is served by a backlog of 1,024, and 10,000
//! connections are held open cheaply (no per-connection buffer until data moves), measured with
//! a counting allocator.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicIsize, Ordering};

use common::*;
use netstack::iface::{Config, Event};

/// Counts live heap bytes.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peers spread over addresses and ports.
fn peer(i: usize) -> (Ipv4Addr, u16) {
    (
        Ipv4Addr::new(10, 1, (i / 200) as u8, (i % 200) as u8 + 2),
        20_000 + i as u16,
    )
}

fn segment(i: usize, seg: Seg) -> Vec<u8> {
    let (ip, port) = peer(i);
    tcp_frame(
        PEER_MAC,
        ip,
        OUR_IP,
        &Seg {
            src_port: port,
            ..seg
        },
    )
}

/// Sends SYNs for peers `range` at once, then all the final ACKs.
fn connect_burst(h: &mut Harness, range: std::ops::Range<usize>) {
    let start = range.start;
    for i in range.clone() {
        h.receive(&segment(
            i,
            Seg {
                seq: 1,
                syn: true,
                mss: Some(1460),
                wscale: Some(7),
                ..Seg::from_peer()
            },
        ));
    }
    let syn_acks: Vec<u32> = h
        .wire
        .frames
        .drain(..)
        .map(|frame| parse_tcp(&frame).seg.seq)
        .collect();
    assert_eq!(syn_acks.len(), range.len(), "every SYN answered");
    for (i, iss) in range.zip(syn_acks) {
        h.receive(&segment(
            i,
            Seg {
                seq: 2,
                ack: Some(iss.wrapping_add(1)),
                ..Seg::from_peer()
            },
        ));
    }
    let accepted = h
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::Accepted { .. }))
        .count();
    assert_eq!(accepted, h.iface.connections() - start);
}

#[test]
fn ten_thousand_connections_held_open_cheaply() {
    let mut h = Harness::new(Config {
        backlog: 1024,
        max_connections: 20_000,
        ..config()
    });
    let before = LIVE.load(Ordering::Relaxed);
    for burst in 0..10 {
        connect_burst(&mut h, burst * 1000..(burst + 1) * 1000);
    }
    assert_eq!(h.iface.connections(), 10_000);
    assert_eq!(h.iface.stats().tcp_accepted, 10_000);
    assert_eq!(h.iface.stats().tcp_syn_dropped_backlog, 0);
    let per_connection = (LIVE.load(Ordering::Relaxed) - before) / 10_000;
    // Eagerly allocated buffers would be 512 KiB each.
    assert!(
        per_connection < 1024,
        "{per_connection} bytes per idle connection"
    );
    h.poll();
    assert!(h.wire.frames.is_empty(), "nothing owed by idle connections");
}
