//! COMMAND and its subcommands: everything here is read from the command table.

use super::{
    command_count, families, help_reply, lookup, spec, CommandSpec, ConnCtx, Flags, Group, KeySpec,
    OpError, Run,
};
use crate::flags;
use crate::glob;
use crate::resp::Reply;
use crate::shard::Step;

pub static COMMANDS: &[CommandSpec] = &[spec(
    "command",
    -1,
    flags!(LOADING | STALE | SENTINEL),
    KeySpec::NONE,
    Group::Server,
    Run::Conn(command),
)
.doc(
    "Returns detailed information about all commands.",
    "2.8.13",
    "O(N) where N is the total number of Redis commands",
    "",
)
.subs(SUBCOMMANDS)];

const FLAGS: Flags = flags!(LOADING | STALE | SENTINEL);

static SUBCOMMANDS: &[CommandSpec] = &[
    spec(
        "command|count",
        2,
        FLAGS,
        KeySpec::NONE,
        Group::Server,
        Run::Conn(count),
    )
    .doc("Returns a count of commands.", "2.8.13", "O(1)", ""),
    spec(
        "command|info",
        -2,
        FLAGS,
        KeySpec::NONE,
        Group::Server,
        Run::Conn(info),
    )
    .doc(
        "Returns information about one, multiple or all commands.",
        "2.8.13",
        "O(N) where N is the number of commands to look up",
        "[command-name [command-name ...]]",
    ),
    spec(
        "command|docs",
        -2,
        FLAGS,
        KeySpec::NONE,
        Group::Server,
        Run::Conn(docs),
    )
    .doc(
        "Returns documentary information about one, multiple or all commands.",
        "7.0.0",
        "O(N) where N is the number of commands to look up",
        "[command-name [command-name ...]]",
    ),
    spec(
        "command|getkeys",
        -3,
        FLAGS,
        KeySpec::NONE,
        Group::Server,
        Run::Conn(getkeys),
    )
    .doc(
        "Extracts the key names from an arbitrary command.",
        "2.8.13",
        "O(N) where N is the number of arguments to the command",
        "command [arg [arg ...]]",
    ),
    spec(
        "command|list",
        -2,
        FLAGS,
        KeySpec::NONE,
        Group::Server,
        Run::Conn(list),
    )
    .doc(
        "Returns a list of command names.",
        "7.0.0",
        "O(N) where N is the total number of Redis commands",
        "[FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]",
    ),
    spec(
        "command|help",
        2,
        FLAGS,
        KeySpec::NONE,
        Group::Server,
        Run::Conn(help),
    )
    .doc(
        "Returns helpful text about the different subcommands.",
        "5.0.0",
        "O(1)",
        "",
    ),
];

type ConnResult = Result<Step, OpError>;

fn reply(r: Reply) -> ConnResult {
    Ok(Step::Reply(r))
}

fn sorted_commands() -> Vec<&'static CommandSpec> {
    let mut all: Vec<_> = families().collect();
    all.sort_by_key(|c| c.name);
    all
}

fn statuses(items: impl IntoIterator<Item = &'static str>) -> Reply {
    Reply::Set(items.into_iter().map(Reply::status).collect())
}

/// A command's `COMMAND INFO` entry, in Redis 7's ten-field layout.
fn command_info(c: &'static CommandSpec) -> Reply {
    let key_specs = if c.has_keys() {
        let access = if c.flags.has(Flags::WRITE) {
            ["RW", "update"]
        } else {
            ["RO", "access"]
        };
        let s = |k: &str| Reply::bulk_str(k);
        let (lastkey, keystep) = (
            if c.keys.last < 0 {
                c.keys.last
            } else {
                c.keys.last - c.keys.first
            },
            c.keys.step,
        );
        vec![Reply::Map(vec![
            (s("flags"), statuses(access)),
            (
                s("begin_search"),
                Reply::Map(vec![
                    (s("type"), s("index")),
                    (
                        s("spec"),
                        Reply::Map(vec![(s("index"), Reply::Int(c.keys.first as i64))]),
                    ),
                ]),
            ),
            (
                s("find_keys"),
                Reply::Map(vec![
                    (s("type"), s("range")),
                    (
                        s("spec"),
                        Reply::Map(vec![
                            (s("lastkey"), Reply::Int(lastkey as i64)),
                            (s("keystep"), Reply::Int(keystep as i64)),
                            (s("limit"), Reply::Int(0)),
                        ]),
                    ),
                ]),
            ),
        ])]
    } else {
        Vec::new()
    };
    Reply::Array(vec![
        Reply::bulk_str(c.name),
        Reply::Int(c.arity as i64),
        statuses(c.flags.names()),
        Reply::Int(c.keys.first as i64),
        Reply::Int(c.keys.last as i64),
        Reply::Int(c.keys.step as i64),
        statuses(c.acl_categories()),
        Reply::Set(Vec::new()),
        Reply::Array(key_specs),
        Reply::Array(c.subcommands.iter().map(command_info).collect()),
    ])
}

/// Turns Redis documentation syntax (`key value [NX|XX] [EX seconds|PX ms]`) into the argument
/// tree `COMMAND DOCS` returns.
fn doc_arguments(syntax: &str) -> Vec<Reply> {
    let tokens: Vec<&str> = syntax.split_whitespace().collect();
    let mut args = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let tok = tokens[i];
        if tok.starts_with('[') {
            // Gather up to the matching bracket.
            let mut depth = 0i32;
            let mut group = Vec::new();
            while i < tokens.len() {
                depth +=
                    tokens[i].matches('[').count() as i32 - tokens[i].matches(']').count() as i32;
                group.push(tokens[i]);
                i += 1;
                if depth <= 0 {
                    break;
                }
            }
            let inner = group.join(" ");
            let inner = inner
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            if inner.ends_with("...") || inner.contains(" ...") {
                continue; // repetition of the previous argument, reflected in its "multiple" flag
            }
            args.push(argument(&inner, true));
        } else if tok == "..." {
            i += 1;
        } else {
            let multiple = tokens
                .get(i + 1)
                .is_some_and(|t| t.starts_with('[') && t.contains(tok));
            let mut arg = argument(tok, false);
            if multiple {
                if let Reply::Map(fields) = &mut arg {
                    fields.push((
                        Reply::bulk_str("flags"),
                        Reply::Set(vec![Reply::status("multiple")]),
                    ));
                }
            }
            args.push(arg);
            i += 1;
        }
    }
    args
}

fn argument(text: &str, optional: bool) -> Reply {
    let s = Reply::bulk_str;
    let mut fields = Vec::new();
    if text.contains('|') {
        let choices: Vec<Reply> = text.split('|').map(|c| argument(c.trim(), false)).collect();
        let name = text
            .split('|')
            .next()
            .unwrap_or(text)
            .split_whitespace()
            .next()
            .unwrap_or(text)
            .to_ascii_lowercase();
        fields.push((s("name"), s(&name)));
        fields.push((s("type"), s("oneof")));
        fields.push((s("arguments"), Reply::Array(choices)));
    } else {
        let words: Vec<&str> = text.split_whitespace().collect();
        let is_token = |w: &str| {
            w.chars()
                .all(|c| c.is_ascii_uppercase() || c == '-' || c.is_ascii_digit())
                && w.chars().any(|c| c.is_ascii_uppercase())
        };
        match words.as_slice() {
            [tok] if is_token(tok) => {
                fields.push((s("name"), s(&tok.to_ascii_lowercase())));
                fields.push((s("type"), s("pure-token")));
                fields.push((s("token"), s(tok)));
            }
            [tok, name, ..] if is_token(tok) => {
                fields.push((s("name"), s(name)));
                fields.push((
                    s("type"),
                    s(if name.contains("key") {
                        "key"
                    } else {
                        "string"
                    }),
                ));
                fields.push((s("token"), s(tok)));
            }
            [name, ..] => {
                let kind = if name.contains("key") || *name == "source" || *name == "destination" {
                    "key"
                } else if name.contains("time")
                    || name.contains("seconds")
                    || name.contains("milliseconds")
                    || *name == "offset"
                    || *name == "start"
                    || *name == "end"
                    || *name == "index"
                    || *name == "increment"
                    || *name == "decrement"
                {
                    "integer"
                } else {
                    "string"
                };
                fields.push((s("name"), s(name)));
                fields.push((s("type"), s(kind)));
            }
            [] => {}
        }
    }
    if optional {
        fields.push((s("flags"), Reply::Set(vec![Reply::status("optional")])));
    }
    Reply::Map(fields)
}

fn command_docs(c: &'static CommandSpec) -> Reply {
    let s = Reply::bulk_str;
    let mut fields = vec![
        (s("summary"), s(c.summary)),
        (s("since"), s(c.since)),
        (s("group"), s(c.group.name())),
        (s("complexity"), s(c.complexity)),
    ];
    let args = doc_arguments(c.syntax);
    if !args.is_empty() {
        fields.push((s("arguments"), Reply::Array(args)));
    }
    if !c.subcommands.is_empty() {
        fields.push((
            s("subcommands"),
            Reply::Map(
                c.subcommands
                    .iter()
                    .map(|sub| (s(sub.name), command_docs(sub)))
                    .collect(),
            ),
        ));
    }
    Reply::Map(fields)
}

fn command(ctx: &mut ConnCtx<'_>) -> ConnResult {
    if ctx.args.len() > 1 {
        return Err(OpError::other(
            "ERR unknown subcommand or wrong number of arguments",
        ));
    }
    reply(Reply::Array(
        sorted_commands().into_iter().map(command_info).collect(),
    ))
}

fn count(_: &mut ConnCtx<'_>) -> ConnResult {
    reply(Reply::Int(command_count() as i64))
}

fn info(ctx: &mut ConnCtx<'_>) -> ConnResult {
    if ctx.args.len() == 2 {
        return reply(Reply::Array(
            sorted_commands().into_iter().map(command_info).collect(),
        ));
    }
    reply(Reply::Array(
        ctx.args[2..]
            .iter()
            .map(|n| lookup(n).map_or(Reply::Null, command_info))
            .collect(),
    ))
}

fn docs(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let specs: Vec<&'static CommandSpec> = if ctx.args.len() == 2 {
        sorted_commands()
    } else {
        ctx.args[2..].iter().filter_map(|n| lookup(n)).collect()
    };
    reply(Reply::Map(
        specs
            .into_iter()
            .map(|c| (Reply::bulk_str(c.name), command_docs(c)))
            .collect(),
    ))
}

fn getkeys(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let args = &ctx.args[2..];
    let mut spec =
        lookup(&args[0]).ok_or_else(|| OpError::other("ERR Invalid command specified"))?;
    if let Run::Parent = spec.run {
        spec = args
            .get(1)
            .and_then(|s| spec.subcommand(s))
            .ok_or_else(|| OpError::other("ERR Invalid command specified"))?;
    }
    if !spec.has_keys() {
        return Err(OpError::other("ERR The command has no key arguments"));
    }
    if !spec.arity_ok(args.len()) {
        return Err(OpError::other(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    reply(Reply::Array(
        spec.key_positions(args)
            .into_iter()
            .map(|i| Reply::Bulk(args[i].clone()))
            .collect(),
    ))
}

fn list(ctx: &mut ConnCtx<'_>) -> ConnResult {
    // Redis lists subcommands (`object|encoding`) beside their containers.
    let names = sorted_commands()
        .into_iter()
        .flat_map(|c| std::iter::once(c).chain(c.subcommands));
    let names: Vec<&'static CommandSpec> = match ctx.args.len() {
        2 => names.collect(),
        5 if super::is_opt(&ctx.args[2], "filterby") => {
            let (kind, value) = (&ctx.args[3], &ctx.args[4]);
            if super::is_opt(kind, "pattern") {
                names
                    .filter(|c| glob::matches(value, c.name.as_bytes(), true))
                    .collect()
            } else if super::is_opt(kind, "aclcat") {
                let cat = format!("@{}", String::from_utf8_lossy(value).to_ascii_lowercase());
                names
                    .filter(|c| c.acl_categories().contains(&cat.as_str()))
                    .collect()
            } else if super::is_opt(kind, "module") {
                Vec::new()
            } else {
                return Err(OpError::Syntax);
            }
        }
        _ => return Err(OpError::Syntax),
    };
    reply(Reply::Array(
        names.into_iter().map(|c| Reply::bulk_str(c.name)).collect(),
    ))
}

fn help(_: &mut ConnCtx<'_>) -> ConnResult {
    reply(help_reply(
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
        ],
    ))
}
