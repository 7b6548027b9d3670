//! Pub/Sub on one shard: who subscribes here, and delivering a published message to them.
//!
//! Subscribers are connections, and a connection lives on one shard, so each shard keeps only
//! its own subscribers; PUBLISH reaches every shard (a fan-out from the publisher's shard) and
//! each delivers to its own, counting receivers. Messages from one publisher arrive in the order
//! it sent them: a connection waits for each PUBLISH's reply before running its next request.

use std::collections::{HashMap, HashSet};

use ahash::RandomState;
use bytes::Bytes;

use super::Shard;
use crate::keyspace::notify;
use crate::resp::Reply;

/// A subscriber that falls this far behind is disconnected, as Redis's default
/// `client-output-buffer-limit pubsub 32mb` does.
const SUBSCRIBER_OUTPUT_LIMIT: usize = 32 << 20;
/// Messages waiting behind a subscriber's unanswered requests, at most.
const SUBSCRIBER_QUEUED_LIMIT: usize = 64 * 1024;

/// One connection's subscriptions.
#[derive(Default, Debug)]
pub struct Subscriptions {
    pub channels: HashSet<Bytes, RandomState>,
    pub patterns: HashSet<Bytes, RandomState>,
    /// Shard channels (SSUBSCRIBE): a namespace of their own, as in Redis 7.
    pub shard_channels: HashSet<Bytes, RandomState>,
}

impl Subscriptions {
    /// Channels plus patterns: what SUBSCRIBE and PSUBSCRIBE confirmations count.
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// Every subscription, shard channels included (the RESP2 subscribed context).
    pub fn total(&self) -> usize {
        self.count() + self.shard_channels.len()
    }
}

/// A subscriber: the connection's slot and its client id (slots are reused).
type Subscriber = (usize, u64);

/// This shard's subscribers, by channel and by pattern.
#[derive(Default)]
pub struct PubSub {
    channels: HashMap<Bytes, Vec<Subscriber>, RandomState>,
    patterns: HashMap<Bytes, Vec<Subscriber>, RandomState>,
    shard_channels: HashMap<Bytes, Vec<Subscriber>, RandomState>,
}

fn add(map: &mut HashMap<Bytes, Vec<Subscriber>, RandomState>, name: &Bytes, who: Subscriber) {
    map.entry(name.clone()).or_default().push(who);
}

fn remove(map: &mut HashMap<Bytes, Vec<Subscriber>, RandomState>, name: &[u8], who: Subscriber) {
    if let Some(list) = map.get_mut(name) {
        list.retain(|s| *s != who);
        if list.is_empty() {
            map.remove(name);
        }
    }
}

impl PubSub {
    pub fn subscribe(&mut self, channel: &Bytes, who: Subscriber) {
        add(&mut self.channels, channel, who);
    }

    pub fn unsubscribe(&mut self, channel: &[u8], who: Subscriber) {
        remove(&mut self.channels, channel, who);
    }

    pub fn psubscribe(&mut self, pattern: &Bytes, who: Subscriber) {
        add(&mut self.patterns, pattern, who);
    }

    pub fn punsubscribe(&mut self, pattern: &[u8], who: Subscriber) {
        remove(&mut self.patterns, pattern, who);
    }

    pub fn ssubscribe(&mut self, channel: &Bytes, who: Subscriber) {
        add(&mut self.shard_channels, channel, who);
    }

    pub fn sunsubscribe(&mut self, channel: &[u8], who: Subscriber) {
        remove(&mut self.shard_channels, channel, who);
    }

    /// Drops every subscription of `who` (a closing connection, RESET).
    pub fn forget(&mut self, who: Subscriber, subs: &Subscriptions) {
        for channel in &subs.channels {
            self.unsubscribe(channel, who);
        }
        for pattern in &subs.patterns {
            self.punsubscribe(pattern, who);
        }
        for channel in &subs.shard_channels {
            self.sunsubscribe(channel, who);
        }
    }

    /// Channels (or with `shard`, shard channels) with a subscriber here, matching `pattern`
    /// if given (PUBSUB CHANNELS, SHARDCHANNELS).
    pub fn channels(&self, pattern: Option<&[u8]>, shard: bool) -> Vec<Bytes> {
        let map = if shard {
            &self.shard_channels
        } else {
            &self.channels
        };
        map.keys()
            .filter(|c| pattern.is_none_or(|p| crate::glob::matches(p, c, false)))
            .cloned()
            .collect()
    }

    /// Subscribers of `channel` (or shard channel) here (PUBSUB NUMSUB, SHARDNUMSUB).
    pub fn subscribers(&self, channel: &[u8], shard: bool) -> usize {
        let map = if shard {
            &self.shard_channels
        } else {
            &self.channels
        };
        map.get(channel).map_or(0, Vec::len)
    }

    /// Patterns with a subscriber here (PUBSUB NUMPAT counts them across shards).
    pub fn patterns(&self) -> Vec<Bytes> {
        self.patterns.keys().cloned().collect()
    }
}

impl Shard {
    /// Delivers an SPUBLISH message to this shard's shard-channel subscribers.
    pub fn spublish_here(&mut self, channel: &Bytes, message: &Bytes) -> usize {
        let targets: Vec<(Subscriber, Reply)> = self
            .pubsub
            .shard_channels
            .get(&channel[..])
            .map(|subs| {
                subs.iter()
                    .map(|&who| {
                        let push = Reply::Push(vec![
                            Reply::bulk_str("smessage"),
                            Reply::Bulk(channel.clone()),
                            Reply::Bulk(message.clone()),
                        ]);
                        (who, push)
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.deliver_pushes(targets)
    }

    /// Delivers a published message to this shard's subscribers; returns how many got it.
    pub fn publish_here(&mut self, channel: &Bytes, message: &Bytes) -> usize {
        let mut targets: Vec<(Subscriber, Reply)> = Vec::new();
        if let Some(subs) = self.pubsub.channels.get(&channel[..]) {
            for &who in subs {
                let push = Reply::Push(vec![
                    Reply::bulk_str("message"),
                    Reply::Bulk(channel.clone()),
                    Reply::Bulk(message.clone()),
                ]);
                targets.push((who, push));
            }
        }
        for (pattern, subs) in &self.pubsub.patterns {
            if !crate::glob::matches(pattern, channel, false) {
                continue;
            }
            for &who in subs {
                let push = Reply::Push(vec![
                    Reply::bulk_str("pmessage"),
                    Reply::Bulk(pattern.clone()),
                    Reply::Bulk(channel.clone()),
                    Reply::Bulk(message.clone()),
                ]);
                targets.push((who, push));
            }
        }
        self.deliver_pushes(targets)
    }

    /// Pushes each message to its subscriber's connection, dropping subscribers too far
    /// behind; returns how many were delivered.
    fn deliver_pushes(&mut self, targets: Vec<(Subscriber, Reply)>) -> usize {
        let mut delivered = 0;
        for ((token, id), push) in targets {
            let Some(conn) = self.conns.get_mut(token).and_then(Option::as_mut) else {
                continue;
            };
            if conn.client.id != id {
                continue;
            }
            conn.push_message(push);
            delivered += 1;
            if conn.unsent() > SUBSCRIBER_OUTPUT_LIMIT
                || conn.queued_replies() > SUBSCRIBER_QUEUED_LIMIT
            {
                tracing::warn!(client = id, addr = %conn.client.addr, "closing a subscriber that fell behind (output over the pub/sub limit)");
                self.close(token);
                continue;
            }
            self.dirty.push(token);
        }
        delivered
    }

    /// Publishes the keyspace events of the commands run here since the last call.
    pub(super) fn publish_events(&mut self) {
        if notify::flags() == 0 {
            return;
        }
        let events = self.ks.take_events();
        self.broadcast_events(events);
    }

    /// Publishes keyspace events to the subscribers of every shard, in order.
    pub(super) fn broadcast_events(&mut self, events: Vec<notify::KeyEvent>) {
        let messages: Vec<(Bytes, Bytes)> = events.iter().flat_map(|e| e.messages()).collect();
        if messages.is_empty() {
            return;
        }
        let messages = std::sync::Arc::new(messages);
        for shard in 0..self.env.shards {
            let messages = messages.clone();
            let deliver = move |s: &mut Shard| {
                for (channel, message) in messages.iter() {
                    s.publish_here(channel, message);
                }
            };
            if shard == self.env.id {
                deliver(self);
            } else {
                self.send(shard, super::Msg::Do(Box::new(deliver)));
            }
        }
    }
}
