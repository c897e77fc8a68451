//! A notice's text as the desktop will show it. What a server sends is data: freedesktop
//! notification servers read the body as markup, so an alarm message `<a href=…>` would be a
//! link. Control characters go, the title and body are capped (a 5 000-character message must
//! not fill the screen), and on Linux `& < >` are escaped after capping, so no entity is cut.

use crate::notices::Notice;

/// Characters of a title at most, the ellipsis included.
pub const MAX_TITLE_CHARS: usize = 80;
/// Characters of a body at most, the ellipsis included.
pub const MAX_BODY_CHARS: usize = 200;

/// The title and body to hand the desktop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopText {
    pub title: String,
    pub body: String,
}

impl DesktopText {
    pub fn of(notice: &Notice) -> DesktopText {
        DesktopText::with_markup(notice, cfg!(target_os = "linux"))
    }

    /// `markup`: whether the desktop reads the text as markup (freedesktop does).
    pub fn with_markup(notice: &Notice, markup: bool) -> DesktopText {
        let shown = |text: &str, keep_newlines: bool, max: usize| {
            let capped = cap(&printable(text, keep_newlines), max);
            if markup {
                escape(&capped)
            } else {
                capped
            }
        };
        DesktopText {
            title: shown(&notice.title, false, MAX_TITLE_CHARS),
            body: shown(&notice.body, true, MAX_BODY_CHARS),
        }
    }
}

/// Without control characters; a line break stays in a body, a tab becomes a space.
fn printable(text: &str, keep_newlines: bool) -> String {
    text.chars()
        .filter_map(|c| match c {
            '\n' if keep_newlines => Some('\n'),
            '\t' | '\n' | '\r' => Some(' '),
            c if c.is_control() => None,
            // Bidirectional overrides can make a message read as something else.
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => None,
            c => Some(c),
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// At most `max` characters, the last an ellipsis when cut.
fn cap(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut kept: String = text.chars().take(max.saturating_sub(1)).collect();
    kept.truncate(kept.trim_end().len());
    kept.push('…');
    kept
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notices::NoticeKind;

    fn notice(title: &str, body: &str) -> Notice {
        Notice {
            kind: NoticeKind::Alarm,
            title: title.to_owned(),
            body: body.to_owned(),
            urgent: false,
        }
    }

    #[test]
    fn markup_is_shown_as_text() {
        let t = DesktopText::with_markup(
            &notice(
                "<i>Critical</i>",
                r#"<b>boil</b> & <a href="https://x">here</a>"#,
            ),
            true,
        );
        assert_eq!(t.title, "&lt;i&gt;Critical&lt;/i&gt;");
        assert_eq!(
            t.body,
            r#"&lt;b&gt;boil&lt;/b&gt; &amp; &lt;a href="https://x"&gt;here&lt;/a&gt;"#
        );
        // Where the desktop reads plain text, nothing is escaped.
        let plain = DesktopText::with_markup(&notice("a < b", "x & y"), false);
        assert_eq!(
            (plain.title.as_str(), plain.body.as_str()),
            ("a < b", "x & y")
        );
    }

    #[test]
    fn control_characters_go_and_a_body_keeps_its_lines() {
        let t = DesktopText::with_markup(
            &notice(
                "Kettle\nover\ttemp\u{7}",
                "line one\r\nline\u{1b}[31m two\u{202E}evil",
            ),
            true,
        );
        assert_eq!(t.title, "Kettle over temp");
        assert_eq!(t.body, "line one \nline[31m twoevil");
    }

    #[test]
    fn long_texts_are_capped_with_an_ellipsis_before_escaping() {
        let t = DesktopText::with_markup(&notice(&"T".repeat(500), &"&".repeat(5_000)), true);
        assert_eq!(t.title.chars().count(), MAX_TITLE_CHARS);
        assert!(t.title.ends_with('…'));
        // 199 ampersands, each escaped whole, and the ellipsis.
        assert_eq!(t.body, format!("{}…", "&amp;".repeat(MAX_BODY_CHARS - 1)));
        // Short ones pass unchanged; multi-byte characters are never split.
        let t = DesktopText::with_markup(&notice("Kühler", &"é".repeat(300)), true);
        assert_eq!(t.title, "Kühler");
        assert_eq!(t.body.chars().count(), MAX_BODY_CHARS);
    }
}
