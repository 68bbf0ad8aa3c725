//! Text a skill hands the host (names, descriptions, tool output) is hostile: it is checked
//! where it enters (manifests) and escaped where it leaves for a terminal.

use std::borrow::Cow;

use crate::error::{Error, Result};

/// Characters that change how a terminal shows what follows them: C0 controls (but newline
/// and tab, where allowed), DEL, C1 controls, and the Unicode bidirectional overrides that
/// make text read differently from how it is stored.
fn is_dangerous(c: char, multiline: bool) -> bool {
    match c {
        '\n' | '\t' => !multiline,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => true,
        // The Arabic letter mark (also a direction mark), line and paragraph separators
        // (line breaks to a terminal), and the invisible tag characters.
        '\u{061c}' | '\u{2028}' | '\u{2029}' | '\u{e0000}'..='\u{e007f}' => true,
        _ => false,
    }
}

/// Refuses text longer than `max_bytes` or holding a control character. `what` names it in
/// the error (e.g. "tool `greet`'s description").
pub fn check_text(what: &str, text: &str, max_bytes: usize, multiline: bool) -> Result<()> {
    if text.len() > max_bytes {
        return Err(Error::invalid(format!(
            "{what} is longer than {max_bytes} bytes ({} bytes)",
            text.len()
        ))
        .with_hint("shorten it; the limits are listed in docs/instances.md"));
    }
    if let Some(c) = text.chars().find(|&c| is_dangerous(c, multiline)) {
        return Err(Error::invalid(format!(
            "{what} contains a control character (U+{:04X})",
            c as u32
        ))
        .with_hint("remove terminal escapes and other control characters from it"));
    }
    Ok(())
}

/// `text` with every dangerous character shown as an escape (`\e`, `\r`, `\x07`...) instead of
/// acting on the terminal. Newlines and tabs stay when `multiline`.
pub fn escape(text: &str, multiline: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_dangerous(c, multiline)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !is_dangerous(c, multiline) => out.push(c),
            '\u{1b}' => out.push_str("\\e"),
            '\u{7}' => out.push_str("\\a"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_make_controls_visible() {
        assert_eq!(escape("plain text\n", true), "plain text\n");
        assert_eq!(
            escape("\u{1b}]0;pwned\u{7}\u{1b}[2Jtext", true),
            "\\e]0;pwned\\a\\e[2Jtext"
        );
        assert_eq!(escape("LANG\r\u{1b}[2A", false), "LANG\\r\\e[2A");
        assert_eq!(escape("a\nb", false), "a\\nb");
        assert_eq!(escape("evil\u{202e}txt.exe", true), "evil\\u{202e}txt.exe");
        assert_eq!(escape("\u{9b}31m", true), "\\x9b31m");
        // Backslashes stay as they are (paths, regexes): only what acts on a terminal changes.
        assert_eq!(escape("C:\\dir", true), "C:\\dir");
    }

    #[test]
    fn checks_refuse_controls_and_length() {
        assert!(check_text("x", "fine\nlines", 100, true).is_ok());
        assert!(check_text("x", "no\nlines", 100, false).is_err());
        let e = check_text("tool `t`'s description", "a\u{1b}[2Jb", 100, true).unwrap_err();
        assert!(e.message().contains("control character (U+001B)"), "{e}");
        let e = check_text("x", &"y".repeat(101), 100, true).unwrap_err();
        assert!(e.message().contains("longer than 100 bytes"), "{e}");
    }
}
