//! Text written by citizens and members, and the characters in it that must never reach a
//! terminal or a file name as they are.
//!
//! A terminal acts on control characters: ESC starts sequences that clear the screen, set the
//! window title (OSC 0), write the clipboard (OSC 52) or colour text; C1 `U+009B` is a one-byte
//! CSI; CR and BEL rewrite lines. Unicode format characters (general category Cf: bidi
//! overrides and isolates, zero-width characters, the BOM, the soft hyphen…) and the line and
//! paragraph separators change what is *shown* without being seen (`evil\u{202e}gpj.exe` reads
//! `evilexe.jpg`). [`for_terminal`] writes each of them as a visible escape such as `\u{1b}`;
//! [`is_hidden`] is the test the member client also uses for file names.

use std::borrow::Cow;
use std::fmt::Write as _;

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Whether a text may span lines where it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// A title, a name, a table cell: a newline or tab is escaped too, so the text cannot start
    /// a line of its own (a fake "[verified by …]" line) or shift columns.
    One,
    /// A report body or a message: newlines and tabs are kept; CRLF (what browsers send) is
    /// shown as a newline, a lone CR is escaped.
    Many,
}

/// True for a character a terminal acts on or that changes how the text around it is shown:
/// every control character (C0, DEL, C1) and every format character (Cf), plus the line and
/// paragraph separators (Zl, Zp).
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c.general_category(),
            GeneralCategory::Format
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
        )
}

/// `text` with every hidden character (see [`is_hidden`]) written as a visible escape:
/// `\n`, `\r`, `\t`, or `\u{…}` (hex). Text without any comes back borrowed.
pub fn for_terminal(text: &str, lines: Lines) -> Cow<'_, str> {
    let kept = |c: char| match c {
        '\n' | '\t' => lines == Lines::Many,
        _ => !is_hidden(c),
    };
    if text.chars().all(kept) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if kept(c) {
            out.push(c);
            continue;
        }
        match c {
            '\r' if lines == Lines::Many && chars.peek() == Some(&'\n') => {}
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            _ => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_sequences_become_visible() {
        let hostile =
            "a\u{1b}[2Jb\u{1b}]0;pwned\u{7}\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[31mred\u{9b}1m\u{7f}";
        let shown = for_terminal(hostile, Lines::Many);
        assert!(
            !shown
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
        );
        assert_eq!(
            shown,
            "a\\u{1b}[2Jb\\u{1b}]0;pwned\\u{7}\\u{1b}]52;c;ZXZpbA==\\u{7}\\u{1b}[31mred\\u{9b}1m\\u{7f}"
        );
    }

    #[test]
    fn format_characters_become_visible() {
        for c in [
            '\u{202a}',
            '\u{202e}',
            '\u{2066}',
            '\u{2069}',
            '\u{200e}',
            '\u{200f}',
            '\u{061c}',
            '\u{200b}',
            '\u{200d}',
            '\u{2060}',
            '\u{2064}',
            '\u{feff}',
            '\u{ad}',
            '\u{2028}',
            '\u{2029}',
            '\u{e0041}',
        ] {
            assert!(is_hidden(c), "{:x}", u32::from(c));
            let s = format!("x{c}y");
            assert_eq!(
                for_terminal(&s, Lines::Many),
                format!("x\\u{{{:x}}}y", u32::from(c))
            );
        }
    }

    #[test]
    fn lines_and_plain_text() {
        assert!(matches!(
            for_terminal("Jalan Merdeka 7, Bandung — é ü 日本", Lines::One),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            for_terminal("one\r\ntwo\tx\rthree\n", Lines::Many),
            "one\ntwo\tx\\rthree\n"
        );
        assert_eq!(
            for_terminal("title\n[verified by desk-triage]\t\r\n", Lines::One),
            "title\\n[verified by desk-triage]\\t\\r\\n"
        );
    }
}
