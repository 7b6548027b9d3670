// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The lab's packet-loss injector: a tc classifier (direct action) that drops a random
 * LOSS_PER_MILLION of the packets crossing it. scripts/lab.sh attaches it to both directions of the
 * client's veth, standing in for `tc qdisc ... netem loss`, which this kernel is built without.
 * Test equipment only: Ferrite never loads it.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#ifndef LOSS_PER_MILLION
#define LOSS_PER_MILLION 10000
#endif

SEC("tc")
int lab_loss(struct __sk_buff *skb)
{
	if (bpf_get_prandom_u32() % 1000000 < LOSS_PER_MILLION)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
