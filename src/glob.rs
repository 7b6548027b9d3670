//! Redis's glob-style pattern matching (`stringmatchlen` in `util.c`), used by KEYS, SCAN MATCH,
//! CONFIG GET and CLIENT KILL: `*`, `?`, `[abc]`, `[^a-z]`, and `\` to escape.

/// Whether `s` matches `pattern`. Recursion on `*` is bounded by collapsing runs of stars and by
/// returning early on a failed tail, as Redis does, so hostile patterns stay cheap enough.
pub fn matches(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_from(pattern, s, nocase, 0, &mut skip_longer)
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// `skip_longer` is Redis's `skipLongerMatches`: once a `*` has run to the end of the string
/// without a match, no outer `*` can do better by consuming more, so every level gives up.
fn match_from(
    mut p: &[u8],
    mut s: &[u8],
    nocase: bool,
    depth: u32,
    skip_longer: &mut bool,
) -> bool {
    // Redis bounds the nesting of `*` at 1000 levels; deeper patterns simply fail to match.
    if depth > 1000 {
        return false;
    }
    while let Some(&pc) = p.first() {
        match pc {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                for i in 0..s.len() {
                    if match_from(&p[1..], &s[i..], nocase, depth + 1, skip_longer) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                }
                *skip_longer = true;
                return false;
            }
            b'?' => {
                if s.is_empty() {
                    return false;
                }
                s = &s[1..];
            }
            b'[' => {
                let Some(&c) = s.first() else { return false };
                p = &p[1..];
                let negate = p.first() == Some(&b'^');
                if negate {
                    p = &p[1..];
                }
                let mut matched = false;
                loop {
                    match p {
                        [b'\\', esc, ..] => {
                            matched |= eq(*esc, c, nocase);
                            p = &p[2..];
                        }
                        [b']', ..] => break,
                        [] => {
                            // An unterminated class: Redis treats the end as closing it.
                            p = &p[..0];
                            break;
                        }
                        [lo, b'-', hi, ..] if *hi != b']' => {
                            let (lo, hi) = if lo <= hi { (*lo, *hi) } else { (*hi, *lo) };
                            let (c2, lo2, hi2) = if nocase {
                                (
                                    c.to_ascii_lowercase(),
                                    lo.to_ascii_lowercase(),
                                    hi.to_ascii_lowercase(),
                                )
                            } else {
                                (c, lo, hi)
                            };
                            matched |= c2 >= lo2 && c2 <= hi2;
                            p = &p[3..];
                        }
                        [x, ..] => {
                            matched |= eq(*x, c, nocase);
                            p = &p[1..];
                        }
                    }
                }
                if matched == negate {
                    return false;
                }
                s = &s[1..];
                if p.is_empty() {
                    return s.is_empty();
                }
            }
            b'\\' if p.len() >= 2 => {
                p = &p[1..];
                if s.first().is_none_or(|&c| !eq(p[0], c, nocase)) {
                    return false;
                }
                s = &s[1..];
            }
            _ => {
                if s.first().is_none_or(|&c| !eq(pc, c, nocase)) {
                    return false;
                }
                s = &s[1..];
            }
        }
        p = &p[1..];
    }
    s.is_empty()
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn redis_patterns() {
        assert!(matches(b"*", b"anything", false));
        assert!(matches(b"h?llo", b"hello", false));
        assert!(matches(b"h*llo", b"heeeello", false));
        assert!(matches(b"h[ae]llo", b"hallo", false));
        assert!(!matches(b"h[^e]llo", b"hello", false));
        assert!(matches(b"h[a-b]llo", b"hbllo", false));
        assert!(matches(b"h\\*llo", b"h*llo", false));
        assert!(!matches(b"h\\*llo", b"hallo", false));
        assert!(matches(b"MAX*", b"maxmemory", true));
        assert!(!matches(b"a*b", b"acd", false));
        assert!(matches(b"user:*:name", b"user:42:name", false));
    }

    #[test]
    fn hostile_pattern_terminates() {
        let pattern = b"a*a*a*a*a*a*a*a*a*a*a*a*b";
        assert!(!matches(pattern, &[b'a'; 40], false));
    }
}
