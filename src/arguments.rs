//! The JSON arguments an LLM emits for a tool call, as `invoke` receives them.
//!
//! The tool takes exactly one optional string argument, so this reads just
//! that shape — a JSON object whose only member is `username` — instead of
//! pulling a general JSON deserializer into the component (it was a quarter
//! of its size). The `invoke_arguments` fuzz target checks it against
//! serde_json.

use crate::text::ellipsize;

/// What is wrong with the arguments. Messages never quote argument values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgumentsError {
    #[error("not valid JSON (at byte {position})")]
    NotJson { position: usize },
    #[error("expected a JSON object such as {{\"username\": \"...\"}}")]
    NotAnObject,
    #[error("'username' must be a string")]
    UsernameNotString,
    #[error("unknown argument '{0}'; the only argument is 'username'")]
    UnknownArgument(String),
}

/// The `username` argument: `""` when absent or null, as the tool's schema
/// defaults it. Empty or blank text counts as no arguments, as several LLM
/// clients send it for a call without arguments.
pub fn parse_username(arguments: &str) -> Result<String, ArgumentsError> {
    let mut reader = Reader {
        bytes: arguments.as_bytes(),
        position: 0,
    };
    reader.skip_whitespace();
    if reader.at_end() {
        return Ok(String::new());
    }
    if reader.peek() != Some(b'{') {
        return Err(if reader.starts_a_value() {
            ArgumentsError::NotAnObject
        } else {
            reader.not_json()
        });
    }
    reader.position += 1;
    let mut username = String::new();
    reader.skip_whitespace();
    if reader.eat(b'}') {
        return reader.finish(username);
    }
    loop {
        reader.skip_whitespace();
        let name = reader.string()?;
        reader.skip_whitespace();
        if !reader.eat(b':') {
            return Err(reader.not_json());
        }
        reader.skip_whitespace();
        if name != "username" {
            return Err(ArgumentsError::UnknownArgument(ellipsize(&name, 40)));
        }
        match reader.peek() {
            Some(b'"') => username = reader.string()?,
            Some(b'n') if reader.eat_word(b"null") => username.clear(),
            _ if reader.starts_a_value() => return Err(ArgumentsError::UsernameNotString),
            _ => return Err(reader.not_json()),
        }
        reader.skip_whitespace();
        if reader.eat(b'}') {
            return reader.finish(username);
        }
        if !reader.eat(b',') {
            return Err(reader.not_json());
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl Reader<'_> {
    fn at_end(&self) -> bool {
        self.position >= self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.position += usize::from(found);
        found
    }

    fn eat_word(&mut self, word: &[u8]) -> bool {
        let found = self.bytes.get(self.position..self.position + word.len()) == Some(word);
        if found {
            self.position += word.len();
        }
        found
    }

    /// Whether a JSON value of some other type starts here. Its rest is not
    /// read: it is refused either way, and this only picks the message.
    fn starts_a_value(&self) -> bool {
        matches!(
            self.peek(),
            Some(b'[' | b'{' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n')
        )
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.position += 1;
        }
    }

    fn not_json(&self) -> ArgumentsError {
        ArgumentsError::NotJson {
            position: self.position,
        }
    }

    /// After the closing brace only whitespace may follow.
    fn finish(&mut self, username: String) -> Result<String, ArgumentsError> {
        self.skip_whitespace();
        if self.at_end() {
            Ok(username)
        } else {
            Err(self.not_json())
        }
    }

    /// A JSON string (RFC 8259 §7), with its escapes resolved.
    fn string(&mut self) -> Result<String, ArgumentsError> {
        if !self.eat(b'"') {
            return Err(self.not_json());
        }
        let mut text = Vec::new();
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.not_json());
            };
            self.position += 1;
            match byte {
                b'"' => break,
                b'\\' => {
                    let letter = self.peek().ok_or_else(|| self.not_json())?;
                    self.position += 1;
                    let escaped = match letter {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(self.not_json()),
                    };
                    let mut buffer = [0u8; 4];
                    text.extend_from_slice(escaped.encode_utf8(&mut buffer).as_bytes());
                }
                0x00..=0x1f => return Err(self.not_json()),
                _ => text.push(byte),
            }
        }
        // The input is a &str, and escapes were encoded from chars.
        String::from_utf8(text).map_err(|_| self.not_json())
    }

    /// The four hex digits after `\u`, joined with a following low
    /// surrogate escape when they are a high surrogate.
    fn unicode_escape(&mut self) -> Result<char, ArgumentsError> {
        let first = self.hex4()?;
        let code = match first {
            0xd800..=0xdbff => {
                if !self.eat_word(b"\\u") {
                    return Err(self.not_json());
                }
                let second = self.hex4()?;
                if !(0xdc00..=0xdfff).contains(&second) {
                    return Err(self.not_json());
                }
                0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00)
            }
            0xdc00..=0xdfff => return Err(self.not_json()),
            _ => first,
        };
        char::from_u32(code).ok_or_else(|| self.not_json())
    }

    fn hex4(&mut self) -> Result<u32, ArgumentsError> {
        let mut value = 0;
        for _ in 0..4 {
            let digit = self
                .peek()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or_else(|| self.not_json())?;
            value = value * 16 + digit;
            self.position += 1;
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        for (arguments, want) in [
            ("", ""),
            ("  \n", ""),
            ("{}", ""),
            ("{\"username\": null}", ""),
            ("{\"username\": \"\"}", ""),
            ("{\"username\": \"agent_wf_n1\"}", "agent_wf_n1"),
            (" { \"username\" : \"a\\u00e9\" } ", "aé"),
            (
                "{\"username\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
                "\"\\/\u{8}\u{c}\n\r\t",
            ),
            ("{\"username\": \"\\ud83d\\ude00 ok\"}", "\u{1f600} ok"),
            ("{\"username\": \"a\", \"username\": \"b\"}", "b"),
        ] {
            assert_eq!(
                parse_username(arguments).as_deref(),
                Ok(want),
                "{arguments:?}"
            );
        }
    }

    #[test]
    fn refused_forms() {
        use ArgumentsError::*;
        for (arguments, want) in [
            ("{", NotJson { position: 1 }),
            ("username=x", NotJson { position: 0 }),
            ("{\"username\": \"a\",}", NotJson { position: 17 }),
            ("{\"username\": \"a\"} x", NotJson { position: 18 }),
            ("{\"username\": \"\\ud800\"}", NotJson { position: 20 }),
            ("[]", NotAnObject),
            ("\"agent\"", NotAnObject),
            ("{\"username\": 5}", UsernameNotString),
            ("{\"username\": [\"a\"]}", UsernameNotString),
            ("{\"user\": \"a\"}", UnknownArgument("user".into())),
        ] {
            assert_eq!(parse_username(arguments), Err(want), "{arguments:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let deep = "[".repeat(100_000);
        assert_eq!(parse_username(&deep), Err(ArgumentsError::NotAnObject));
        let nested = format!("{{\"username\": {deep}");
        assert_eq!(
            parse_username(&nested),
            Err(ArgumentsError::UsernameNotString)
        );
    }
}
