//! Ferrite's userspace network stack: the AF_XDP port (UMEM, fill/completion/rx/tx rings,
//! wake-ups), the userspace TCP endpoint and ARP/ICMP. It knows nothing about Redis: a shard hands
//! it frames and time and gets back byte streams per connection.
//!
//! The dataplane issue fills this crate in; until then Ferrite serves clients on kernel sockets
//! only, through the same shard loop the AF_XDP socket will join (`src/shard`).
