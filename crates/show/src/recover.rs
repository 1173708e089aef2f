//! More than the first parse error: RON stops at the first, so after a wrong value (an
//! unknown field or variant, a value of the wrong type) on a line, that line is blanked and the
//! rest parsed again. Blanking keeps every later line:column, and is done only where the line's
//! brackets balance, so what is left still parses as the user wrote it. Syntax errors, and any
//! error the blanking could have caused (a field now missing, a tuple now short), end the
//! search: an error reported here is always one the user's file has.

use std::path::Path;

use ron::Error;

use crate::error::{ErrorKind, ShowError};
use crate::scene::Show;

/// Enough for a file with a typo per scene, not a wall of text for a file that is not RON.
const MAX_ERRORS: usize = 20;

/// The parse errors of `text` after `first` (which [`crate::io::load_str`] reported), each at
/// its line:column.
pub(crate) fn later_errors(text: &str, origin: &Path, first: &ShowError) -> Vec<ShowError> {
    let mut found = Vec::new();
    if !matches!(*first.kind, ErrorKind::Parse(_)) || first.pos.is_none() {
        return found;
    }
    let mut text = text.to_owned();
    let Err(mut err) = crate::io::options().from_str::<Show>(&text) else {
        return found;
    };
    // The show's own parse must see what load_str saw (not a migrated text's error).
    if Some((err.span.start.line, err.span.start.col)) != first.pos {
        return found;
    }
    while found.len() + 1 < MAX_ERRORS && value_error(&err.code) {
        let line = err.span.start.line;
        if !blank_line(&mut text, line) {
            break;
        }
        match crate::io::options().from_str::<Show>(&text) {
            Err(next) if next.span.start.line > line && value_error(&next.code) => {
                found.push(ShowError {
                    file: Some(origin.to_path_buf()),
                    pos: Some((next.span.start.line, next.span.start.col)),
                    scene: None,
                    kind: Box::new(ErrorKind::Parse(next.code.to_string())),
                });
                err = next;
            }
            _ => break,
        }
    }
    found
}

/// An error in one value, which the rest of the file parses without.
fn value_error(code: &Error) -> bool {
    matches!(
        code,
        Error::NoSuchStructField { .. }
            | Error::NoSuchEnumVariant { .. }
            | Error::InvalidValueForType { .. }
            | Error::DuplicateStructField { .. }
            | Error::ExpectedFloat
            | Error::ExpectedInteger
            | Error::ExpectedBoolean
            | Error::ExpectedString
    )
}

/// Replaces line `line` (1-based) with spaces, when its brackets balance outside strings and
/// comments; `false` (and nothing changed) otherwise.
fn blank_line(text: &mut String, line: usize) -> bool {
    let Some(start) = line_start(text, line) else {
        return false;
    };
    let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
    if !balanced(&text[start..end]) {
        return false;
    }
    let spaces: String = text[start..end]
        .chars()
        .map(|c| if c == '\r' { c } else { ' ' })
        .collect();
    text.replace_range(start..end, &spaces);
    true
}

fn line_start(text: &str, line: usize) -> Option<usize> {
    if line == 1 {
        return Some(0);
    }
    text.match_indices('\n')
        .nth(line.checked_sub(2)?)
        .map(|(i, _)| i + 1)
}

/// Whether `(`/`)`, `[`/`]` and `{`/`}` pair up, ignoring strings and `//` comments.
fn balanced(line: &str) -> bool {
    let mut open = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => loop {
                match chars.next() {
                    Some('\\') => {
                        chars.next();
                    }
                    Some('"') => break,
                    Some(_) => {}
                    // A string that goes on past this line.
                    None => return false,
                }
            },
            '/' if chars.peek() == Some(&'/') => break,
            '(' | '[' | '{' => open.push(c),
            ')' | ']' | '}' => {
                let want = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if open.pop() != Some(want) {
                    return false;
                }
            }
            _ => {}
        }
    }
    open.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_balance_outside_strings_and_comments() {
        assert!(balanced(r#"  opacity: 0.5,"#));
        assert!(balanced(r#""bg": (kind: solid((colr: (1, 0, 0, 1)))),"#));
        assert!(balanced(r#"text: "a ( [ { \" still a string","#));
        assert!(balanced(r#"x: 1, // a comment with ( in it"#));
        assert!(!balanced(r#"nodes: {"#));
        assert!(!balanced(r#"}, edges: ["#));
        assert!(!balanced(r#"text: "runs on"#));
    }

    #[test]
    fn blanking_keeps_positions() {
        let mut text = "a\n  b: (1),\nc\n".to_owned();
        assert!(blank_line(&mut text, 2));
        assert_eq!(text, format!("a\n{}\nc\n", " ".repeat("  b: (1),".len())));
        assert!(!blank_line(&mut text, 9), "no such line");
        let mut open = "a\nnodes: {\n".to_owned();
        assert!(!blank_line(&mut open, 2));
        assert_eq!(open, "a\nnodes: {\n");
    }
}
