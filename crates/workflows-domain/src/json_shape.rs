//! Whether stored JSON text has the shape of `molecules_used` (a list of strings) or of
//! `atoms_in_molecules` (an object of lists of strings), in one pass over its bytes.
//!
//! serde_json answered the same through a visitor that walked every string: about a tenth of
//! the instructions a GET of one workflow took, for 550 bytes of JSON (bench/README.md finding
//! 39). These functions accept exactly the texts serde_json reads into those shapes (the tests
//! hold them to it): JSON's whitespace, strings without control characters, escapes as JSON
//! defines them, `\u` surrogates only in pairs, and nothing after the value.

/// `["…", …]`.
pub(crate) fn is_list_of_strings(text: &str) -> bool {
    let mut scan = Scan::new(text);
    scan.whitespace();
    scan.list_of_strings() && scan.at_end()
}

/// `{"…": ["…", …], …}`.
pub(crate) fn is_object_of_lists_of_strings(text: &str) -> bool {
    let mut scan = Scan::new(text);
    scan.whitespace();
    scan.object_of_lists() && scan.at_end()
}

struct Scan<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let here = self.peek() == Some(byte);
        if here {
            self.at += 1;
        }
        here
    }

    fn whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn at_end(&mut self) -> bool {
        self.whitespace();
        self.at == self.bytes.len()
    }

    /// Bytes of 0x80 and above are parts of characters (the text is a `str`), which JSON
    /// strings may hold as they are.
    fn string(&mut self) -> bool {
        if !self.eat(b'"') {
            return false;
        }
        loop {
            // Most bytes of a string are plain; skip them in one tight loop.
            let rest = &self.bytes[self.at..];
            self.at += rest
                .iter()
                .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)
                .unwrap_or(rest.len());
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return true;
                }
                Some(b'\\') => {
                    self.at += 1;
                    if !self.escape() {
                        return false;
                    }
                }
                Some(0x20..) => self.at += 1,
                Some(_) | None => return false,
            }
        }
    }

    fn escape(&mut self) -> bool {
        match self.peek() {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.at += 1;
                true
            }
            Some(b'u') => {
                self.at += 1;
                match self.hex_unit() {
                    Some(0xD800..=0xDBFF) => {
                        self.eat(b'\\')
                            && self.eat(b'u')
                            && matches!(self.hex_unit(), Some(0xDC00..=0xDFFF))
                    }
                    Some(0xDC00..=0xDFFF) | None => false,
                    Some(_) => true,
                }
            }
            _ => false,
        }
    }

    /// Four hex digits, as a UTF-16 unit.
    fn hex_unit(&mut self) -> Option<u16> {
        let digits = self.bytes.get(self.at..self.at + 4)?;
        let mut unit = 0u16;
        for &digit in digits {
            let value = char::from(digit).to_digit(16)?;
            unit = unit * 16 + u16::try_from(value).ok()?;
        }
        self.at += 4;
        Some(unit)
    }

    /// `open`, then `item`s separated by commas, then `close`, with JSON's whitespace between.
    fn delimited(&mut self, open: u8, close: u8, mut item: impl FnMut(&mut Self) -> bool) -> bool {
        if !self.eat(open) {
            return false;
        }
        self.whitespace();
        if self.eat(close) {
            return true;
        }
        loop {
            if !item(self) {
                return false;
            }
            self.whitespace();
            if self.eat(close) {
                return true;
            }
            if !self.eat(b',') {
                return false;
            }
            self.whitespace();
        }
    }

    fn list_of_strings(&mut self) -> bool {
        self.delimited(b'[', b']', Self::string)
    }

    fn object_of_lists(&mut self) -> bool {
        self.delimited(b'{', b'}', |scan| {
            if !scan.string() {
                return false;
            }
            scan.whitespace();
            if !scan.eat(b':') {
                return false;
            }
            scan.whitespace();
            scan.list_of_strings()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// What serde_json answers: the oracle these functions must agree with.
    fn serde_list(text: &str) -> bool {
        serde_json::from_str::<Vec<String>>(text).is_ok()
    }

    fn serde_object(text: &str) -> bool {
        serde_json::from_str::<HashMap<String, Vec<String>>>(text).is_ok()
    }

    fn agree(text: &str) {
        assert_eq!(is_list_of_strings(text), serde_list(text), "list: {text:?}");
        assert_eq!(
            is_object_of_lists_of_strings(text),
            serde_object(text),
            "object: {text:?}"
        );
    }

    #[test]
    fn the_cases_that_decide_agree_with_serde() {
        for text in [
            "[]",
            " [ ] ",
            r#"["a", "b"]"#,
            r#"["a",]"#,
            r#"[,"a"]"#,
            r#"["a" "b"]"#,
            r#"["a"] x"#,
            r#"["a"]]"#,
            "[1]",
            "[null]",
            r#"[["a"]]"#,
            r#"["\u00e9\n\t\/\"\\\b\f\r"]"#,
            r#"["\ud83d\ude00"]"#,
            r#"["\ud83d"]"#,
            r#"["\ud83d\u0041"]"#,
            r#"["\ude00"]"#,
            r#"["\u12"]"#,
            r#"["\u+123"]"#,
            r#"["\x"]"#,
            "[\"tab\tinside\"]",
            "[\"nul\u{0}\"]",
            "[\"é ☃ \u{1f600}\"]",
            "\u{feff}[]",
            "",
            " ",
            "{}",
            r#"{"m": []}"#,
            r#"{"m": ["a"], "n": ["b", "c"]}"#,
            r#"{"m": ["a"],}"#,
            r#"{"m" ["a"]}"#,
            r#"{"m": "a"}"#,
            r#"{"m": ["a"], "m": []}"#,
            r#"{m: []}"#,
            r#"{"m": [1]}"#,
            r#"{"m": []"#,
            "{\"m\"\r\n:\t[ \"a\" , \"b\" ]\n}",
        ] {
            agree(text);
        }
    }

    /// Pieces that valid and almost-valid texts are made of.
    const PIECES: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        " ",
        "\n",
        "\"",
        r#""a""#,
        r#""m-1""#,
        r#""\u00e9""#,
        r#""\ud83d\ude00""#,
        r#""\ud83d""#,
        r#""\ude00""#,
        r#""\q""#,
        "\"\u{1}\"",
        "\"é\"",
        "\\",
        "1",
        "null",
        "\"\\u",
        "ab\"",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn any_text_of_json_pieces_is_judged_as_serde_judges_it(
            picks in proptest::collection::vec(0..PIECES.len(), 0..14)
        ) {
            let text: String = picks.iter().map(|&i| PIECES[i]).collect();
            agree(&text);
        }

        #[test]
        fn objects_of_lists_with_one_byte_changed_are_judged_as_serde_judges_them(
            lists in proptest::collection::vec(
                ("[a-z\\\\\"é\u{1}/]{0,4}", proptest::collection::vec("[a-z\"\\\\\u{7f}]{0,3}", 0..3)),
                0..4,
            ),
            cut in any::<prop::sample::Index>(),
            byte in prop::sample::select(vec![b'"', b'\\', b',', b':', b'[', b']', b'{', b'}', b' ', b'x']),
        ) {
            let map: Vec<(String, Vec<String>)> = lists;
            let pairs: Vec<String> = map
                .iter()
                .map(|(key, values)| {
                    format!("{}: {}", serde_json::json!(key), serde_json::json!(values))
                })
                .collect();
            let text = format!("{{{}}}", pairs.join(", "));
            agree(&text);
            let mut changed = text.into_bytes();
            let at = cut.index(changed.len());
            changed[at] = byte;
            // A byte inside a character leaves no text to judge.
            if let Ok(changed) = String::from_utf8(changed) {
                agree(&changed);
            }
        }
    }
}
