//! The value types a key can hold. Each data type gets its own variant and, as its commands land,
//! its own module (the way Redis keeps `t_string.c`, `t_list.c`, ...).

use bytes::Bytes;

use super::{HashValue, SetValue, StreamValue, ZSetValue};
use crate::resp::Reply;
use crate::small::SmallBytes;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string short enough to live in the entry itself.
    SmallStr(SmallBytes),
    /// A longer string; replies share it rather than copy it.
    Str(Bytes),
    /// Collections hold their small encodings inline here and box only the big ones, so a small
    /// hash, set or sorted set costs one allocation: its packed buffer.
    Hash(HashValue),
    Set(SetValue),
    /// A list; Redis 7.0 reports every list as a quicklist.
    List(Box<std::collections::VecDeque<Bytes>>),
    ZSet(ZSetValue),
    Stream(Box<StreamValue>),
}

impl Value {
    /// A string value holding a copy of `s`, inline when it is short.
    pub fn string(s: &[u8]) -> Value {
        SmallBytes::new(s).map_or_else(|| Value::Str(Bytes::copy_from_slice(s)), Value::SmallStr)
    }

    /// A string value from bytes already owned.
    pub fn from_bytes(b: Bytes) -> Value {
        SmallBytes::new(&b).map_or(Value::Str(b), Value::SmallStr)
    }

    /// The bytes of a string value.
    pub fn as_str(&self) -> Option<&[u8]> {
        match self {
            Value::SmallStr(s) => Some(s.as_slice()),
            Value::Str(b) => Some(b),
            _ => None,
        }
    }

    /// A string value as owned bytes (shared for long strings, copied for short ones).
    pub fn str_bytes(&self) -> Option<Bytes> {
        match self {
            Value::SmallStr(s) => Some(Bytes::copy_from_slice(s.as_slice())),
            Value::Str(b) => Some(b.clone()),
            _ => None,
        }
    }

    /// The bulk reply of a string value, without copying a long one or allocating a short one.
    pub fn str_reply(&self) -> Option<Reply> {
        match self {
            Value::SmallStr(s) => Some(Reply::SmallBulk(*s)),
            Value::Str(b) => Some(Reply::Bulk(b.clone())),
            _ => None,
        }
    }

    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::SmallStr(_) | Value::Str(_) => "string",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::List(_) => "list",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// The encoding OBJECT ENCODING reports, by Redis's rules for strings.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Hash(h) => return h.encoding(),
            Value::Set(s) => return s.encoding(),
            Value::List(_) => return "quicklist",
            Value::ZSet(z) => return z.encoding(),
            Value::Stream(_) => return "stream",
            _ => {}
        }
        match self.as_str() {
            Some(s) if s.len() <= 20 && crate::resp::parse_i64(s).is_some() => "int",
            Some(s) if s.len() <= 44 => "embstr",
            _ => "raw",
        }
    }

    /// Approximate heap bytes, for INFO memory.
    pub fn heap_size(&self) -> usize {
        match self {
            Value::SmallStr(_) => 0,
            Value::Str(s) => s.len(),
            Value::Hash(h) => h.heap_size(),
            Value::Set(s) => s.heap_size(),
            Value::List(l) => l.iter().map(|e| e.len() + 32).sum(),
            Value::ZSet(z) => z.heap_size(),
            Value::Stream(s) => s.heap_size(),
        }
    }
}

/// A collection type held in a [`Value`]: how to find it there, and how to store a new one.
/// Command families use it (through `Ctx::read_as` and friends) instead of matching on
/// `Value` themselves, so WRONGTYPE and empty-key removal are decided in one place.
pub trait Collection: Default {
    fn of(value: &Value) -> Option<&Self>;
    fn of_mut(value: &mut Value) -> Option<&mut Self>;
    fn into_value(self) -> Value;
    fn is_empty(&self) -> bool;
}

macro_rules! collection {
    ($t:ty, $variant:ident, $wrap:expr) => {
        impl Collection for $t {
            fn of(value: &Value) -> Option<&Self> {
                match value {
                    Value::$variant(c) => Some(c),
                    _ => None,
                }
            }

            fn of_mut(value: &mut Value) -> Option<&mut Self> {
                match value {
                    Value::$variant(c) => Some(c),
                    _ => None,
                }
            }

            fn into_value(self) -> Value {
                Value::$variant($wrap(self))
            }

            fn is_empty(&self) -> bool {
                <$t>::is_empty(self)
            }
        }
    };
}

collection!(HashValue, Hash, std::convert::identity);
collection!(SetValue, Set, std::convert::identity);
collection!(std::collections::VecDeque<Bytes>, List, Box::new);
collection!(ZSetValue, ZSet, std::convert::identity);

/// A stream is the one collection a key keeps when it has no entries (its IDs and groups stay),
/// so it is never "empty" for [`Ctx::drop_if_empty`](crate::command::Ctx::drop_if_empty).
impl Collection for StreamValue {
    fn of(value: &Value) -> Option<&Self> {
        match value {
            Value::Stream(c) => Some(c),
            _ => None,
        }
    }

    fn of_mut(value: &mut Value) -> Option<&mut Self> {
        match value {
            Value::Stream(c) => Some(c),
            _ => None,
        }
    }

    fn into_value(self) -> Value {
        Value::Stream(Box::new(self))
    }

    fn is_empty(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small collections live inline in the value, which lives in the key's entry.
    #[test]
    fn values_stay_small() {
        assert!(std::mem::size_of::<Value>() <= 40);
        assert!(std::mem::size_of::<HashValue>() <= 32);
        assert!(std::mem::size_of::<ZSetValue>() <= 32);
    }
}
