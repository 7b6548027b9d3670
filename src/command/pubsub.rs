//! Pub/Sub commands (Redis's `pubsub.c`): SUBSCRIBE and friends register the connection with
//! its own shard's registry (`shard::pubsub`); PUBLISH and PUBSUB fan out to every shard, where
//! the subscribers are. Shard channels (SSUBSCRIBE, SPUBLISH) are Redis 7's separate namespace;
//! on one node they reach every subscriber too.

use std::collections::HashSet;

use bytes::Bytes;

use super::{help_reply, spec, CommandSpec, ConnCtx, Group, KeySpec, OpError, Run};
use crate::flags;
use crate::resp::Reply;
use crate::shard::pubsub::Subscriptions;
use crate::shard::{HopOut, Shard, Step};

const G: Group = Group::PubSub;

pub static COMMANDS: &[CommandSpec] = &[
    spec("subscribe", -2, flags!(PUBSUB | NOSCRIPT | LOADING | STALE), KeySpec::NONE, G, Run::Conn(subscribe))
        .doc("Listens for messages published to channels.", "2.0.0", "O(N) where N is the number of channels to subscribe to.", "channel [channel ...]"),
    spec("unsubscribe", -1, flags!(PUBSUB | NOSCRIPT | LOADING | STALE), KeySpec::NONE, G, Run::Conn(unsubscribe))
        .doc("Stops listening to messages posted to channels.", "2.0.0", "O(N) where N is the number of channels to unsubscribe.", "[channel [channel ...]]"),
    spec("psubscribe", -2, flags!(PUBSUB | NOSCRIPT | LOADING | STALE), KeySpec::NONE, G, Run::Conn(psubscribe))
        .doc("Listens for messages published to channels that match one or more patterns.", "2.0.0", "O(N) where N is the number of patterns to subscribe to.", "pattern [pattern ...]"),
    spec("punsubscribe", -1, flags!(PUBSUB | NOSCRIPT | LOADING | STALE), KeySpec::NONE, G, Run::Conn(punsubscribe))
        .doc("Stops listening to messages published to channels that match one or more patterns.", "2.0.0", "O(N) where N is the number of patterns to unsubscribe.", "[pattern [pattern ...]]"),
    spec("ssubscribe", -2, flags!(PUBSUB | NOSCRIPT | LOADING | STALE), KeySpec::NONE, G, Run::Conn(ssubscribe))
        .doc("Listens for messages published to shard channels.", "7.0.0", "O(N) where N is the number of shard channels to subscribe to.", "shardchannel [shardchannel ...]"),
    spec("sunsubscribe", -1, flags!(PUBSUB | NOSCRIPT | LOADING | STALE), KeySpec::NONE, G, Run::Conn(sunsubscribe))
        .doc("Stops listening to messages posted to shard channels.", "7.0.0", "O(N) where N is the number of shard channels to unsubscribe.", "[shardchannel [shardchannel ...]]"),
    spec("spublish", 3, flags!(PUBSUB | LOADING | STALE | FAST), KeySpec::NONE, G, Run::Conn(spublish))
        .doc("Post a message to a shard channel", "7.0.0", "O(N) where N is the number of clients subscribed to the receiving shard channel.", "shardchannel message"),
    spec("publish", 3, flags!(PUBSUB | LOADING | STALE | FAST), KeySpec::NONE, G, Run::Conn(publish))
        .doc("Posts a message to a channel.", "2.0.0", "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).", "channel message"),
    spec("pubsub", -2, flags!(), KeySpec::NONE, G, Run::Parent)
        .doc("A container for Pub/Sub commands.", "2.8.0", "Depends on subcommand.", "")
        .subs(PUBSUB_SUBCOMMANDS),
];

static PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    spec("pubsub|channels", -2, flags!(PUBSUB | LOADING | STALE), KeySpec::NONE, G, Run::Conn(pubsub_channels))
        .doc("Returns the active channels.", "2.8.0", "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)", "[pattern]"),
    spec("pubsub|numsub", -2, flags!(PUBSUB | LOADING | STALE), KeySpec::NONE, G, Run::Conn(pubsub_numsub))
        .doc("Returns a count of subscribers to channels.", "2.8.0", "O(N) for the NUMSUB subcommand, where N is the number of requested channels", "[channel [channel ...]]"),
    spec("pubsub|numpat", 2, flags!(PUBSUB | LOADING | STALE), KeySpec::NONE, G, Run::Conn(pubsub_numpat))
        .doc("Returns a count of unique pattern subscriptions.", "2.8.0", "O(1)", ""),
    spec("pubsub|shardchannels", -2, flags!(PUBSUB | LOADING | STALE), KeySpec::NONE, G, Run::Conn(pubsub_shardchannels))
        .doc("Returns the active shard channels.", "7.0.0", "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).", "[pattern]"),
    spec("pubsub|shardnumsub", -2, flags!(PUBSUB | LOADING | STALE), KeySpec::NONE, G, Run::Conn(pubsub_shardnumsub))
        .doc("Returns the count of subscribers of shard channels.", "7.0.0", "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels", "[shardchannel [shardchannel ...]]"),
    spec("pubsub|help", 2, flags!(LOADING | STALE), KeySpec::NONE, G, Run::Conn(pubsub_help))
        .doc("Returns helpful text about the different subcommands.", "6.2.0", "O(1)", ""),
];

/// What a RESP2 client may send while it subscribes to something.
pub fn allowed_while_subscribed(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "subscribe"
            | "psubscribe"
            | "ssubscribe"
            | "unsubscribe"
            | "punsubscribe"
            | "sunsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

/// PUBLISH and SPUBLISH: their connection need not wait for their fan-out to go on.
pub fn is_publish(spec: &CommandSpec) -> bool {
    matches!(spec.name, "publish" | "spublish")
}

type ConnResult = Result<Step, OpError>;

/// `[kind, name, subscriptions left]`, the confirmation of each (un)subscription.
fn confirmation(kind: &'static str, name: Option<Bytes>, count: usize) -> Reply {
    Reply::Push(vec![
        Reply::bulk_str(kind),
        name.map_or(Reply::Null, Reply::Bulk),
        Reply::Int(count as i64),
    ])
}

/// Channel or pattern subscriptions of a connection, with the registry calls that match.
#[derive(Clone, Copy)]
enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn names(self, subs: &mut Subscriptions) -> &mut HashSet<Bytes, ahash::RandomState> {
        match self {
            Kind::Channel => &mut subs.channels,
            Kind::Pattern => &mut subs.patterns,
            Kind::Shard => &mut subs.shard_channels,
        }
    }

    /// The count a confirmation carries: shard channels count apart, as in Redis 7.
    fn count(self, subs: &Subscriptions) -> usize {
        match self {
            Kind::Shard => subs.shard_channels.len(),
            _ => subs.count(),
        }
    }

    fn subscribe_label(self) -> &'static str {
        match self {
            Kind::Channel => "subscribe",
            Kind::Pattern => "psubscribe",
            Kind::Shard => "ssubscribe",
        }
    }

    fn unsubscribe_label(self) -> &'static str {
        match self {
            Kind::Channel => "unsubscribe",
            Kind::Pattern => "punsubscribe",
            Kind::Shard => "sunsubscribe",
        }
    }
}

fn subscribe_generic(ctx: &mut ConnCtx<'_>, kind: Kind) -> ConnResult {
    let who = (ctx.token, ctx.client.id);
    let subs = ctx
        .client
        .subscriptions
        .get_or_insert_with(Default::default);
    let mut replies = Vec::with_capacity(ctx.args.len() - 1);
    for name in &ctx.args[1..] {
        if kind.names(subs).insert(name.clone()) {
            match kind {
                Kind::Channel => ctx.pubsub.subscribe(name, who),
                Kind::Pattern => ctx.pubsub.psubscribe(name, who),
                Kind::Shard => ctx.pubsub.ssubscribe(name, who),
            }
        }
        replies.push(confirmation(
            kind.subscribe_label(),
            Some(name.clone()),
            kind.count(subs),
        ));
    }
    Ok(Step::Reply(Reply::Replies(replies)))
}

fn unsubscribe_generic(ctx: &mut ConnCtx<'_>, kind: Kind) -> ConnResult {
    let label = kind.unsubscribe_label();
    let who = (ctx.token, ctx.client.id);
    let Some(subs) = ctx.client.subscriptions.as_mut() else {
        // Nothing to leave: a confirmation per name, or one with no name, as Redis replies.
        if ctx.args.len() == 1 {
            return Ok(Step::Reply(confirmation(label, None, 0)));
        }
        let replies = ctx.args[1..]
            .iter()
            .map(|name| confirmation(label, Some(name.clone()), 0))
            .collect();
        return Ok(Step::Reply(Reply::Replies(replies)));
    };
    let names: Vec<Bytes> = if ctx.args.len() > 1 {
        ctx.args[1..].to_vec()
    } else {
        kind.names(subs).iter().cloned().collect()
    };
    if names.is_empty() {
        return Ok(Step::Reply(confirmation(label, None, kind.count(subs))));
    }
    let mut replies = Vec::with_capacity(names.len());
    for name in names {
        if kind.names(subs).remove(&name) {
            match kind {
                Kind::Channel => ctx.pubsub.unsubscribe(&name, who),
                Kind::Pattern => ctx.pubsub.punsubscribe(&name, who),
                Kind::Shard => ctx.pubsub.sunsubscribe(&name, who),
            }
        }
        replies.push(confirmation(label, Some(name), kind.count(subs)));
    }
    if subs.total() == 0 {
        ctx.client.subscriptions = None;
    }
    Ok(Step::Reply(Reply::Replies(replies)))
}

fn subscribe(ctx: &mut ConnCtx<'_>) -> ConnResult {
    subscribe_generic(ctx, Kind::Channel)
}

fn psubscribe(ctx: &mut ConnCtx<'_>) -> ConnResult {
    subscribe_generic(ctx, Kind::Pattern)
}

/// Leaves every channel, pattern and shard channel without confirmations (RESET).
pub fn unsubscribe_everything(ctx: &mut ConnCtx<'_>) {
    if let Some(subs) = ctx.client.subscriptions.take() {
        ctx.pubsub.forget((ctx.token, ctx.client.id), &subs);
    }
}

fn ssubscribe(ctx: &mut ConnCtx<'_>) -> ConnResult {
    subscribe_generic(ctx, Kind::Shard)
}

fn sunsubscribe(ctx: &mut ConnCtx<'_>) -> ConnResult {
    unsubscribe_generic(ctx, Kind::Shard)
}

fn unsubscribe(ctx: &mut ConnCtx<'_>) -> ConnResult {
    unsubscribe_generic(ctx, Kind::Channel)
}

fn punsubscribe(ctx: &mut ConnCtx<'_>) -> ConnResult {
    unsubscribe_generic(ctx, Kind::Pattern)
}

fn publish(ctx: &mut ConnCtx<'_>) -> ConnResult {
    publish_generic(ctx, false)
}

fn spublish(ctx: &mut ConnCtx<'_>) -> ConnResult {
    publish_generic(ctx, true)
}

/// PUBLISH and SPUBLISH: every shard delivers to its own subscribers; the reply is how many
/// received it.
fn publish_generic(ctx: &mut ConnCtx<'_>, shard: bool) -> ConnResult {
    let (channel, message) = (ctx.args[1].clone(), ctx.args[2].clone());
    Ok(Step::fan_out(
        0..ctx.env.shards,
        None,
        move |s: &mut Shard| {
            let n = if shard {
                s.spublish_here(&channel, &message)
            } else {
                s.publish_here(&channel, &message)
            };
            HopOut::Reply(Reply::Int(n as i64))
        },
        |outs| {
            Reply::Int(
                outs.into_iter()
                    .map(|o| match o.into_reply() {
                        Reply::Int(n) => n,
                        _ => 0,
                    })
                    .sum(),
            )
        },
    ))
}

/// The names each shard answered with, as one list without repeats.
fn union_of_names(outs: Vec<HopOut>) -> Vec<Reply> {
    let mut seen = HashSet::new();
    let mut names = Vec::new();
    for out in outs {
        if let Reply::Array(items) = out.into_reply() {
            for item in items {
                if let Reply::Bulk(name) = &item {
                    if seen.insert(name.clone()) {
                        names.push(item);
                    }
                }
            }
        }
    }
    names
}

fn bulks(names: Vec<Bytes>) -> Reply {
    Reply::Array(names.into_iter().map(Reply::Bulk).collect())
}

fn pubsub_channels(ctx: &mut ConnCtx<'_>) -> ConnResult {
    channels_generic(ctx, false)
}

fn pubsub_shardchannels(ctx: &mut ConnCtx<'_>) -> ConnResult {
    channels_generic(ctx, true)
}

fn channels_generic(ctx: &mut ConnCtx<'_>, shard: bool) -> ConnResult {
    if ctx.args.len() > 3 {
        let name = if shard { "SHARDCHANNELS" } else { "CHANNELS" };
        return Err(OpError::other(format!(
            "ERR unknown subcommand or wrong number of arguments for '{name}'. Try PUBSUB HELP."
        )));
    }
    let pattern = ctx.args.get(2).cloned();
    Ok(Step::fan_out(
        0..ctx.env.shards,
        None,
        move |s: &mut Shard| HopOut::Reply(bulks(s.pubsub.channels(pattern.as_deref(), shard))),
        |outs| Reply::Array(union_of_names(outs)),
    ))
}

fn pubsub_numsub(ctx: &mut ConnCtx<'_>) -> ConnResult {
    numsub_generic(ctx, false)
}

fn pubsub_shardnumsub(ctx: &mut ConnCtx<'_>) -> ConnResult {
    numsub_generic(ctx, true)
}

fn numsub_generic(ctx: &mut ConnCtx<'_>, shard: bool) -> ConnResult {
    let channels: Vec<Bytes> = ctx.args[2..].to_vec();
    let asked = channels.clone();
    Ok(Step::fan_out(
        0..ctx.env.shards,
        None,
        move |s: &mut Shard| {
            HopOut::Reply(Reply::Array(
                asked
                    .iter()
                    .map(|c| Reply::Int(s.pubsub.subscribers(c, shard) as i64))
                    .collect(),
            ))
        },
        move |outs| {
            let mut totals = vec![0i64; channels.len()];
            for out in outs {
                if let Reply::Array(counts) = out.into_reply() {
                    for (total, count) in totals.iter_mut().zip(counts) {
                        if let Reply::Int(n) = count {
                            *total += n;
                        }
                    }
                }
            }
            Reply::Array(
                channels
                    .into_iter()
                    .zip(totals)
                    .flat_map(|(c, n)| [Reply::Bulk(c), Reply::Int(n)])
                    .collect(),
            )
        },
    ))
}

fn pubsub_numpat(ctx: &mut ConnCtx<'_>) -> ConnResult {
    Ok(Step::fan_out(
        0..ctx.env.shards,
        None,
        |s: &mut Shard| HopOut::Reply(bulks(s.pubsub.patterns())),
        |outs| Reply::Int(union_of_names(outs).len() as i64),
    ))
}

fn pubsub_help(_ctx: &mut ConnCtx<'_>) -> ConnResult {
    Ok(Step::Reply(help_reply(
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    )))
}
