// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ferrite's XDP program: steers the dataplane's frames into AF_XDP sockets.
 *
 * A frame goes to XSKMAP[rx_queue_index] (the AF_XDP socket of the shard serving that NIC queue)
 * when it is an IPv4 packet to the dataplane address or an ARP packet asking for it; everything
 * else passes to the kernel untouched, so the host keeps its own traffic (SSH, the fallback port).
 * A dataplane frame arriving on a queue with no socket bound is dropped, never handed to a kernel
 * that does not own the address.
 *
 * The address comes from `ferrite_config[0]`, written by the loader before attaching. Per-CPU
 * counters in `ferrite_stats` (redirected, passed, dropped) become Prometheus metrics.
 *
 * This program only classifies; it never trusts a length it has not bounds-checked against
 * data_end (the verifier insists, and so do we).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* linux/if_arp.h pulls in glibc's 32-bit stubs under -target bpf: the fixed ARP header by hand. */
struct arp_header {
	__be16 hw_type;
	__be16 proto_type;
	__u8 hw_len;
	__u8 proto_len;
	__be16 op;
};

/* The Ethernet/IPv4 ARP payload after the fixed header. */
struct arp_ipv4 {
	__u8 sender_mac[ETH_ALEN];
	__be32 sender_ip;
	__u8 target_mac[ETH_ALEN];
	__be32 target_ip;
} __attribute__((packed));

struct ferrite_config {
	__be32 dataplane_addr;
};

enum ferrite_stat {
	STAT_REDIRECTED = 0,
	STAT_PASSED = 1,
	STAT_DROPPED = 2,
	STAT_COUNT = 3,
};

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} ferrite_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ferrite_config);
} ferrite_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} ferrite_stats SEC(".maps");

static __always_inline int count(__u32 stat, int action)
{
	__u64 *counter = bpf_map_lookup_elem(&ferrite_stats, &stat);

	if (counter)
		*counter += 1;
	return action;
}

/* Whether the frame is addressed to the dataplane: IPv4 to `addr`, or ARP about `addr`. */
static __always_inline int for_dataplane(void *data, void *data_end, __be32 addr)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return 0;
		return ip->daddr == addr;
	}
	if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
		struct arp_header *arp = (void *)(eth + 1);
		struct arp_ipv4 *body = (void *)(arp + 1);

		if ((void *)(body + 1) > data_end)
			return 0;
		return arp->proto_type == bpf_htons(ETH_P_IP) && body->target_ip == addr;
	}
	return 0;
}

SEC("xdp")
int ferrite_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	struct ferrite_config *config = bpf_map_lookup_elem(&ferrite_config, &zero);

	if (!config || !for_dataplane(data, data_end, config->dataplane_addr))
		return count(STAT_PASSED, XDP_PASS);
	if (bpf_redirect_map(&ferrite_xsks, ctx->rx_queue_index, XDP_DROP) == XDP_REDIRECT)
		return count(STAT_REDIRECTED, XDP_REDIRECT);
	return count(STAT_DROPPED, XDP_DROP);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
