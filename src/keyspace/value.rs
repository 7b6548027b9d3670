//! The value types a key can hold. Each data type gets its own variant and, as its commands land,
//! its own module (the way Redis keeps `t_string.c`, `t_list.c`, ...).

use bytes::Bytes;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(Bytes),
}

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
        }
    }

    /// The encoding OBJECT ENCODING reports, by Redis's rules for strings.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => {
                if s.len() <= 20 && crate::resp::parse_i64(s).is_some() {
                    "int"
                } else if s.len() <= 44 {
                    "embstr"
                } else {
                    "raw"
                }
            }
        }
    }

    /// Approximate heap bytes, for INFO memory.
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Str(s) => s.len(),
        }
    }
}
